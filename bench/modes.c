/* modes.c: the measurements that are not a throughput run: how long the
 * store takes to load, whether a reload ever stalls a check, and how much
 * memory ratelimit holds when a million addresses pass by. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "bench.h"

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- audit records ------------------------------------------------------ */

/* Read in chunks rather than mapping the file: a mapped 500 MB log would
 * count in the process's peak RSS, which the same line reports. */
long long bench_count_audit(const char *path)
{
    static const char pat[] = "\"event\":\"decision\"";
    const size_t plen = sizeof(pat) - 1, chunk = 1u << 20;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf = malloc(chunk + plen);
    long long n = -1;
    size_t keep = 0;
    if (fd < 0 || !buf)
        goto out;
    n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + keep, chunk);
        if (r < 0) {
            n = -1;
            break;
        }
        if (r == 0)
            break;
        size_t len = keep + (size_t)r;
        const char *end = buf + len;
        for (const char *c = buf; (c = memmem(c, (size_t)(end - c), pat, plen)); c += plen)
            n++;
        /* A match split across chunks: keep the tail that could start one
         * (shorter than the pattern, so nothing is counted twice). */
        keep = len < plen - 1 ? len : plen - 1;
        memmove(buf, end - keep, keep);
    }
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return n;
}

/* ---- store load --------------------------------------------------------- */

/* libyaml's event parser alone over the same text: the floor under any
 * loader that keeps libyaml. */
static double yaml_only_ms(const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    uint64_t t0 = bench_now_ns();
    if (!yaml_parser_initialize(&p))
        return -1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (int done = 0; !done;) {
        if (!yaml_parser_parse(&p, &ev))
            break;
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return (double)(bench_now_ns() - t0) / 1e6;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf)
            *len = (size_t)n, buf[n] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

/* One open of the store: its time in ms (-1 when it fails) and its key
 * count. */
static double load_once(const bench_env *env, size_t *count)
{
    mcpauth_store *s = NULL;
    mcpauth_error err;
    uint64_t t0 = bench_now_ns();
    if (mcpauth_store_open(&s, env->store, NULL, &err) != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth-bench: %s\n", err.message);
        return -1;
    }
    double ms = (double)(bench_now_ns() - t0) / 1e6;
    *count = mcpauth_store_count(s);
    mcpauth_store_close(s);
    return ms;
}

/* The best of `runs` loads with this thread, and so the store's loader
 * threads, held to one CPU: the store is then parsed whole, as on a
 * one-CPU machine (core/keystore_split.c). */
static double load_one_cpu(const bench_env *env, unsigned runs, size_t *count)
{
    cpu_set_t all, one;
    double best = 1e30;
    if (sched_getaffinity(0, sizeof(all), &all) != 0) {
        perror("mcpauth-bench: sched_getaffinity");
        return -1;
    }
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) {
            CPU_SET(c, &one);
            break;
        }
    if (sched_setaffinity(0, sizeof(one), &one) != 0) {
        perror("mcpauth-bench: sched_setaffinity");
        return -1;
    }
    for (unsigned r = 0; r < runs && best >= 0; r++) {
        double ms = load_once(env, count);
        best = ms < best ? ms : best;
    }
    /* Every later scenario's threads inherit this thread's affinity: one
     * left on one CPU would measure 2 threads on one CPU. */
    if (sched_setaffinity(0, sizeof(all), &all) != 0) {
        perror("mcpauth-bench: restoring the CPU affinity");
        exit(2);
    }
    return best;
}

int bench_store_load(const bench_env *env, const bench_opts *o)
{
    double ms[64], yaml_ms = 1e30;
    unsigned runs = o->load_runs < 64 ? o->load_runs : 64;
    size_t count = 0, count1 = 0, len = 0;
    cpu_set_t cpus;
    int ncpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
    char *text = slurp(env->store, &len);
    bench_reset_peak_rss();
    for (unsigned r = 0; r < runs; r++) {
        if ((ms[r] = load_once(env, &count)) < 0) {
            free(text);
            return -1;
        }
        double y = text ? yaml_only_ms(text, len) : -1;
        yaml_ms = y < yaml_ms ? y : yaml_ms;
    }
    free(text);
    double one = load_one_cpu(env, runs, &count1);
    qsort(ms, runs, sizeof(ms[0]), bench_cmp_double);
    printf("{\"scenario\":\"store_load\",\"threads\":1,\"cpus\":%d,\"keys\":%zu,"
           "\"file_bytes\":%zu,\"runs\":%u,\"load_ms_best\":%.1f,\"load_ms_median\":%.1f,"
           "\"load_ms_worst\":%.1f,\"load_ms_best_one_cpu\":%.1f,"
           "\"libyaml_events_ms_best\":%.1f,\"max_rss_kb\":%ld,\"loadavg\":%.2f}\n",
           ncpu, count, env->store_bytes, runs, ms[0], ms[runs / 2], ms[runs - 1], one,
           yaml_ms, bench_peak_rss_kb(), bench_loadavg());
    fflush(stdout);
    return count == env->nkeys && count1 == env->nkeys && one >= 0 ? 0 : -1;
}

/* ---- reload stall ------------------------------------------------------- */

typedef struct checker {
    mcpauth *a;
    const bench_mix *mix;
    const bench_scenario *sc;
    atomic_int stop;
    bench_hist h;
    uint64_t n, mismatches, t0, t1;
} checker;

/* Time every decision: the question is the worst one. */
static void *checker_main(void *arg)
{
    checker *c = arg;
    uint64_t timer = bench_timer_ns();
    size_t mask = c->mix->n - 1;
    c->t0 = bench_now_ns();
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
        const bench_req *q = &c->mix->reqs[c->n & mask];
        mcpauth_decision d;
        uint64_t s = bench_now_ns();
        mcpauth_check(c->a, &q->r, &d);
        uint64_t e = bench_now_ns() - s;
        bench_hist_add(&c->h, e > timer ? e - timer : 0);
        c->mismatches += (uint64_t)(d.allowed != bench_expect_allow(c->sc, q->kind));
        c->n++;
    }
    c->t1 = bench_now_ns();
    return NULL;
}

/* The store file rewritten and renamed into place, as `mcpauth key` does:
 * the live store's watcher reloads it as well. */
static int touch_store(const bench_env *env, const char *text, size_t len)
{
    char tmp[700];
    snprintf(tmp, sizeof(tmp), "%s.bench-tmp", env->store);
    if (bench_write_file(tmp, text, len) != 0)
        return -1;
    return rename(tmp, env->store);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Run the checker alone for `ms`, or while `reloads` reloads happen. */
static int stall_phase(mcpauth *a, checker *c, const bench_env *env,
                       unsigned reloads, long ms, double *reload_ms_max,
                       double *reload_ms_sum)
{
    pthread_t t;
    size_t len = 0;
    char *text = reloads ? slurp(env->store, &len) : NULL;
    int rc = 0;
    atomic_store(&c->stop, 0);
    c->n = c->mismatches = 0;
    if (pthread_create(&t, NULL, checker_main, c) != 0) {
        free(text);
        return -1;
    }
    sleep_ms(ms);
    for (unsigned r = 0; r < reloads && rc == 0; r++) {
        mcpauth_error err;
        if (text)
            touch_store(env, text, len);
        uint64_t t0 = bench_now_ns();
        if (mcpauth_reload(a, &err) != MCPAUTH_OK) {
            fprintf(stderr, "mcpauth-bench: reload: %s\n", err.message);
            rc = -1;
        }
        double d = (double)(bench_now_ns() - t0) / 1e6;
        *reload_ms_sum += d;
        *reload_ms_max = d > *reload_ms_max ? d : *reload_ms_max;
    }
    if (reloads)
        sleep_ms(ms); /* let the store watchers finish their own reloads */
    atomic_store(&c->stop, 1);
    pthread_join(t, NULL);
    free(text);
    return rc;
}

int bench_reload_stall(const bench_env *env, const bench_opts *o)
{
    static const bench_scenario sc = { "reload", "full.yaml", 0, 1, 0 };
    char *policy = bench_path(env, sc.file);
    mcpauth *a = NULL;
    mcpauth_error err;
    bench_mix mix = { 0 };
    checker c;
    double rmax = 0, rsum = 0;
    int rc = -1;
    long ms = (long)(o->duration_s * 1000) / 2 + 1;
    memset(&c, 0, sizeof(c));
    if (!policy || bench_mix_build(&mix, env, o->mix, 0xC0FFEE) != 0 ||
        bench_hist_init(&c.h) != 0)
        goto out;
    if (mcpauth_open(&a, policy, &err) != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth-bench: %s\n", err.message);
        goto out;
    }
    c.a = a, c.mix = &mix, c.sc = &sc;
    bench_reset_peak_rss();
    if (stall_phase(a, &c, env, 0, ms, &rmax, &rsum) != 0)
        goto out;
    uint64_t base_p99 = bench_hist_pct(&c.h, 99), base_max = c.h.max;
    bench_hist_free(&c.h);
    if (bench_hist_init(&c.h) != 0 ||
        stall_phase(a, &c, env, o->reloads, ms, &rmax, &rsum) != 0)
        goto out;
    double secs = (double)(c.t1 - c.t0) / 1e9;
    printf("{\"scenario\":\"reload\",\"threads\":1,\"reloads\":%u,\"keys\":%zu,"
           "\"reload_ms_mean\":%.1f,\"reload_ms_max\":%.1f,\"decisions\":%llu,"
           "\"decisions_per_s\":%.0f,\"p50_ns\":%llu,\"p99_ns\":%llu,\"p999_ns\":%llu,"
           "\"max_ns\":%llu,\"baseline_p99_ns\":%llu,\"baseline_max_ns\":%llu,"
           "\"mismatches\":%llu,\"max_rss_kb\":%ld,\"loadavg\":%.2f}\n",
           o->reloads, env->nkeys, o->reloads ? rsum / o->reloads : 0, rmax,
           (unsigned long long)c.n, secs > 0 ? (double)c.n / secs : 0,
           (unsigned long long)bench_hist_pct(&c.h, 50),
           (unsigned long long)bench_hist_pct(&c.h, 99),
           (unsigned long long)bench_hist_pct(&c.h, 99.9),
           (unsigned long long)c.h.max, (unsigned long long)base_p99,
           (unsigned long long)base_max, (unsigned long long)c.mismatches,
           bench_peak_rss_kb(), bench_loadavg());
    fflush(stdout);
    rc = c.mismatches ? -1 : 0;
out:
    mcpauth_close(a);
    bench_hist_free(&c.h);
    bench_mix_free(&mix);
    free(policy);
    return rc;
}

/* ---- memory ------------------------------------------------------------- */

/* "a.b.c.d" for address v, without printf: the loop should cost the
 * plugin's work, not ours. */
static void ipv4_text(uint32_t v, char *out)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned o = (v >> shift) & 255u;
        if (o >= 100)
            *out++ = (char)('0' + o / 100);
        if (o >= 10)
            *out++ = (char)('0' + o / 10 % 10);
        *out++ = (char)('0' + o % 10);
        *out++ = shift ? '.' : '\0';
    }
}

static int memory_feed(mcpauth *a, const bench_opts *o, bench_hist *h,
                       double *secs)
{
    uint64_t timer = bench_timer_ns();
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    char ip[16];
    r.client_ip = ip;
    r.method = "tools/call";
    r.tool = "get_weather";
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < o->addresses; i++) {
        mcpauth_decision d;
        ipv4_text(0x0B000000u + (uint32_t)i, ip); /* 11.0.0.0 onwards */
        if ((i & (o->sample - 1)) == 0) {
            uint64_t s = bench_now_ns();
            mcpauth_check(a, &r, &d);
            uint64_t e = bench_now_ns() - s;
            bench_hist_add(h, e > timer ? e - timer : 0);
        } else {
            mcpauth_check(a, &r, &d);
        }
    }
    *secs = (double)(bench_now_ns() - t0) / 1e9;
    return 0;
}

int bench_memory(const bench_opts *o)
{
    bench_env env;
    mcpauth *a = NULL;
    mcpauth_error err = { MCPAUTH_OK, "" };
    bench_hist h = { 0 };
    double secs = 0;
    char *policy = NULL;
    int rc = -1;
    memset(&env, 0, sizeof(env));
    const char *tmp = getenv("TMPDIR");
    snprintf(env.dir, sizeof(env.dir), "%s/mcpauth-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(env.dir)) {
        env.dir[0] = '\0';
        goto out;
    }
    policy = bench_path(&env, "memory.yaml");
    if (!policy || bench_write_policies(&env, o) != 0 ||
        mcpauth_open(&a, policy, &err) != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth-bench: memory policy: %s\n", a ? "" : err.message);
        goto out;
    }
    if (bench_hist_init(&h) != 0)
        goto out;
    long before = bench_rss_kb();
    bench_reset_peak_rss();
    memory_feed(a, o, &h, &secs);
    printf("{\"scenario\":\"memory\",\"threads\":1,\"addresses\":%zu,"
           "\"max_tracked\":100000,\"decisions\":%zu,\"decisions_per_s\":%.0f,"
           "\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu,\"rss_before_kb\":%ld,"
           "\"max_rss_kb\":%ld,\"loadavg\":%.2f}\n",
           o->addresses, o->addresses, secs > 0 ? (double)o->addresses / secs : 0,
           (unsigned long long)bench_hist_pct(&h, 50),
           (unsigned long long)bench_hist_pct(&h, 99), (unsigned long long)h.max,
           before, bench_peak_rss_kb(), bench_loadavg());
    fflush(stdout);
    rc = 0;
out:
    mcpauth_close(a);
    bench_hist_free(&h);
    free(policy);
    bench_env_free(&env, o->keep);
    return rc;
}
