/* setup.c: the bench's temporary world: a 0700 directory holding a key
 * store of opts->keys keys (made in one write with
 * mcpauth_store_create_batch), the policies of every scenario, and the
 * request mixes drawn across the whole store. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define ID_LEN 12
#define SECRET_LEN 36
#define CRC_LEN 6

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* The tools a `monitor` key may call (get_*, list_*, *_status), and one it
 * may not. */
static const char *const ok_tools[] = { "get_weather", "list_files", "disk_status" };
static const char forbidden_tool[] = "delete_everything";

char *bench_path(const bench_env *env, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", env->dir, name) < 0)
        return NULL;
    return p;
}

int bench_write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

/* splitmix64: a fast, seedable generator for the request mix (not for
 * secrets: those come from libsodium). */
static uint64_t mix_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- key texts the store does not know ---------------------------------- */

/* CRC32 (IEEE), as the key format's checksum uses: the wrong keys the bench
 * makes must be well-formed, so that they cost a lookup and a hash like a
 * real guess instead of stopping at the checksum. */
static uint32_t crc32_ieee(const char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static void put_crc(char *key, size_t covered)
{
    uint32_t crc = crc32_ieee(key, covered);
    for (int i = CRC_LEN - 1; i >= 0; i--) {
        key[covered + (size_t)i] = b62[crc % 62];
        crc /= 62;
    }
    key[covered + CRC_LEN] = '\0';
}

/* Where the body (id, secret, checksum) of a key text starts. */
static size_t body_at(const char *key)
{
    const char *u = strchr(key, '_');
    u = u ? strchr(u + 1, '_') : NULL;
    return u ? (size_t)(u + 1 - key) : 0;
}

/* `good` with one secret character changed and the checksum redone. */
static void wrong_secret(char *out, const char *good)
{
    size_t body = body_at(good);
    strcpy(out, good);
    char *c = &out[body + ID_LEN + 7];
    *c = *c == 'A' ? 'B' : 'A';
    put_crc(out, body + ID_LEN + SECRET_LEN);
}

/* A well-formed key with a random id the store does not hold (62^12 ids:
 * a clash with 100,000 keys is as likely as guessing one). */
static void unknown_key(char *out, const char *like, uint64_t *seed)
{
    size_t body = body_at(like);
    memcpy(out, like, body);
    for (size_t i = 0; i < ID_LEN + SECRET_LEN; i++)
        out[body + i] = b62[mix_next(seed) % 62];
    put_crc(out, body + ID_LEN + SECRET_LEN);
}

/* ---- the store ---------------------------------------------------------- */

static int make_store(bench_env *env, size_t n)
{
    mcpauth_store_options so = MCPAUTH_STORE_OPTIONS_INIT;
    so.flags = MCPAUTH_STORE_CREATE;
    mcpauth_store *s = NULL;
    mcpauth_error err;
    mcpauth_key_spec *specs = calloc(n, sizeof(*specs));
    char (*names)[32] = calloc(n, sizeof(*names));
    static const char *const ips[] = { "10.0.0.0/8", NULL };
    int rc = -1;
    env->keys = calloc(n, MCPAUTH_KEY_TEXT_MAX);
    if (!specs || !names || !env->keys)
        goto out;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "service-%zu", i);
        specs[i].name = names[i];
        specs[i].role = "monitor";
        /* One key in ten carries its own address list, which ipwhitelist
         * checks on each of its requests. */
        specs[i].allowed_ips = i % 10 == 0 ? ips : NULL;
    }
    if (mcpauth_store_open(&s, env->store, &so, &err) != MCPAUTH_OK ||
        mcpauth_store_create_batch(s, specs, n, 0, env->keys,
                                   n * MCPAUTH_KEY_TEXT_MAX, &err) != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth-bench: key store: %s\n", err.message);
        goto out;
    }
    env->nkeys = n;
    struct stat st;
    env->store_bytes = stat(env->store, &st) == 0 ? (size_t)st.st_size : 0;
    rc = 0;
out:
    mcpauth_store_close(s);
    free(specs);
    free(names);
    return rc;
}

int bench_env_init(bench_env *env, const bench_opts *o)
{
    const char *tmp = getenv("TMPDIR");
    memset(env, 0, sizeof(*env));
    snprintf(env->dir, sizeof(env->dir), "%s/mcpauth-bench-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(env->dir)) { /* mkdtemp makes it 0700 */
        fprintf(stderr, "mcpauth-bench: mkdtemp %s: %s\n", env->dir, strerror(errno));
        env->dir[0] = '\0';
        return -1;
    }
    snprintf(env->store, sizeof(env->store), "%s/keys.yaml", env->dir);
    env->nclients = o->clients;
    env->clients = calloc(o->clients, sizeof(*env->clients));
    if (!env->clients)
        return -1;
    /* Clients spread over 10.0.0.0/8, inside every allow list. */
    for (size_t i = 0; i < o->clients; i++)
        snprintf(env->clients[i], sizeof(env->clients[i]), "10.%zu.%zu.%zu",
                 (i >> 16) & 255, (i >> 8) & 255, i & 255);
    return make_store(env, o->keys);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

void bench_env_free(bench_env *env, int keep)
{
    if (env->keys)
        sodium_memzero(env->keys, env->nkeys * MCPAUTH_KEY_TEXT_MAX);
    free(env->keys);
    free(env->clients);
    if (env->dir[0] && !keep)
        nftw(env->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (env->dir[0])
        fprintf(stderr, "mcpauth-bench: kept %s\n", env->dir);
}

/* ---- policies ----------------------------------------------------------- */

static const char full_stack[] =
    "  - plugin: ipwhitelist\n"
    "    control: requisite\n"
    "    config: { allow: [10.0.0.0/8, 192.168.0.0/16, \"fd00::/8\"], per_key: false }\n"
    "  - plugin: ratelimit\n"
    "    name: per_ip\n"
    "    control: requisite\n"
    "    config: { by: ip, requests_per_minute: 1000000, burst: 1000000,\n"
    "              max_failed_attempts: 1000000, failure_window: 15m }\n"
    "  - plugin: apikey\n"
    "    control: required\n"
    "    config: { store: keys.yaml }\n"
    "  - plugin: role\n"
    "    control: required\n";

static int write_policy(const bench_env *env, const char *name, const char *text)
{
    char *p = bench_path(env, name);
    int rc = p ? bench_write_file(p, text, strlen(text)) : -1;
    if (rc)
        fprintf(stderr, "mcpauth-bench: cannot write %s\n", p ? p : name);
    free(p);
    return rc;
}

int bench_write_policies(const bench_env *env, const bench_opts *o)
{
    char fw[2048];
    int n = snprintf(fw, sizeof(fw), "version: 1\nplugin_dirs: [\"%s\"]\nstack:\n",
                     o->plugin_dir);
    for (int i = 1; i <= 5 && n > 0 && (size_t)n < sizeof(fw); i++)
        n += snprintf(fw + n, sizeof(fw) - (size_t)n,
                      "  - { plugin: benchallow, name: allow%d, control: required }\n", i);
    char *full = NULL, *audit = NULL;
    int rc = -1;
    if (asprintf(&full, "version: 1\nstack:\n%s", full_stack) < 0)
        full = NULL;
    if (asprintf(&audit, "version: 1\nstack:\n%s"
                 "  - plugin: audit-file\n"
                 "    control: optional\n"
                 "    config: { path: audit.log, fsync: interval,\n"
                 "              rotate_bytes: 1099511627776, keep: 0 }\n",
                 full_stack) < 0)
        audit = NULL;
    if (full && audit &&
        !write_policy(env, "framework.yaml", fw) &&
        !write_policy(env, "apikey.yaml",
                      "version: 1\nstack:\n  - plugin: apikey\n    control: required\n"
                      "    config: { store: keys.yaml }\n") &&
        !write_policy(env, "full.yaml", full) &&
        !write_policy(env, "full_audit.yaml", audit) &&
        !write_policy(env, "memory.yaml",
                      "version: 1\nstack:\n  - plugin: ratelimit\n    control: required\n"
                      "    config: { by: ip, requests_per_minute: 600, burst: 100 }\n"))
        rc = 0;
    free(full);
    free(audit);
    return rc;
}

/* ---- request mixes ------------------------------------------------------ */

int bench_expect_allow(const bench_scenario *sc, bench_kind k)
{
    if (sc->all_allow)
        return 1;
    return k == BENCH_OK || (k == BENCH_FORBIDDEN_TOOL && !sc->has_role);
}

/* 90% allowed, 10% denied in three equal parts. */
static bench_kind pick_kind(uint64_t r)
{
    unsigned p = (unsigned)(r % 300);
    if (p < 270)
        return BENCH_OK;
    return p < 280 ? BENCH_BAD_SECRET : p < 290 ? BENCH_FORBIDDEN_TOOL : BENCH_UNKNOWN_ID;
}

static void fill_req(bench_mix *m, size_t i, const bench_env *env, uint64_t *seed)
{
    bench_req *q = &m->reqs[i];
    const char *key = env->keys + (mix_next(seed) % env->nkeys) * MCPAUTH_KEY_TEXT_MAX;
    q->r = (mcpauth_request)MCPAUTH_REQUEST_INIT;
    q->kind = pick_kind(mix_next(seed));
    q->r.credential = q->key;
    q->r.client_ip = env->clients[mix_next(seed) % env->nclients];
    q->r.method = "tools/call";
    q->r.tool = ok_tools[mix_next(seed) % 3];
    q->r.transport = "http";
    q->r.bytes = 200 + mix_next(seed) % 1000;
    if (q->kind == BENCH_BAD_SECRET)
        wrong_secret(q->key, key);
    else if (q->kind == BENCH_UNKNOWN_ID)
        unknown_key(q->key, key, seed);
    else
        strcpy(q->key, key);
    if (q->kind == BENCH_FORBIDDEN_TOOL)
        q->r.tool = forbidden_tool;
}

int bench_mix_build(bench_mix *m, const bench_env *env, size_t n, uint64_t seed)
{
    m->n = n;
    m->reqs = calloc(n, sizeof(*m->reqs));
    if (!m->reqs)
        return -1;
    for (size_t i = 0; i < n; i++)
        fill_req(m, i, env, &seed);
    return 0;
}

void bench_mix_free(bench_mix *m)
{
    if (m->reqs)
        sodium_memzero(m->reqs, m->n * sizeof(*m->reqs));
    free(m->reqs);
    memset(m, 0, sizeof(*m));
}

/* sc's policy opened, fn run on the handle, the handle closed (which writes
 * everything the audit writer still holds) and, for an audited scenario,
 * the decision records counted into *audit (-1 otherwise). Returns fn's
 * result, or 2 when the policy cannot be opened. */
int bench_with_policy(const bench_env *env, const bench_scenario *sc,
                      int (*fn)(mcpauth *a, void *ctx), void *ctx,
                      long long *audit)
{
    char *policy = bench_path(env, sc->file);
    char *log = bench_path(env, "audit.log");
    mcpauth *a = NULL;
    mcpauth_error err;
    int rc = 2;
    *audit = -1;
    if (!policy || !log)
        goto out;
    unlink(log);
    if (mcpauth_open(&a, policy, &err) != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth-bench: %s: %s\n", sc->name, err.message);
        goto out;
    }
    bench_reset_peak_rss();
    rc = fn(a, ctx);
    mcpauth_close(a);
    if (rc == 0 && sc->audit)
        *audit = bench_count_audit(log);
out:
    if (log)
        unlink(log);
    free(policy);
    free(log);
    return rc;
}
