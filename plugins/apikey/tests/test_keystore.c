/* test_keystore: the key store file and its API: permissions, atomic and
 * locked writes, refusal of corrupt files, refresh, rotation and expiry. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "testutil.h"

#define T0 1800000000000LL /* 2027-01-15T08:00:00Z */
#define HOUR 3600000LL
#define DAY (24 * HOUR)

static char *dir, *path;

static int setup(void)
{
    dir = tu_mkdtemp();
    path = tu_fmt("%s/state/keys.yaml", dir);
    return 0;
}

static int teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    free(path);
    return 0;
}

/* A fresh store path per test. */
static char *fresh(const char *name)
{
    free(path);
    path = tu_fmt("%s/%s/keys.yaml", dir, name);
    return path;
}

static mcpauth_store *open_store(unsigned flags, mcpauth_error *err)
{
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.flags = flags;
    mcpauth_store *s = NULL;
    if (mcpauth_store_open(&s, path, &o, err) != MCPAUTH_OK)
        return NULL;
    return s;
}

static mcpauth_store *must_open(unsigned flags)
{
    mcpauth_error err;
    mcpauth_store *s = open_store(flags, &err);
    if (!s)
        fprintf(stderr, "open: %s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static char *new_key(mcpauth_store *s, const char *name, int64_t expires,
                     char *key, char *id)
{
    mcpauth_key_spec sp = MCPAUTH_KEY_SPEC_INIT;
    sp.name = name;
    sp.role = "reader";
    sp.expires_ms = expires;
    mcpauth_key_info *info = NULL;
    mcpauth_error err;
    mcpauth_status st = mcpauth_store_create(s, &sp, T0, key, MCPAUTH_KEY_TEXT_MAX,
                                             &info, &err);
    CU_ASSERT_EQUAL_FATAL(st, MCPAUTH_OK);
    strcpy(id, info->id);
    mcpauth_key_info_free(info);
    return key;
}

static mcpauth_reason verify(mcpauth_store *s, const char *key, int64_t now, int *grace)
{
    mcpauth_key_verdict v;
    mcpauth_store_verify(s, key, now, MCPAUTH_KEY_TYPE_LIVE | MCPAUTH_KEY_TYPE_TEST, &v);
    if (grace)
        *grace = v.grace;
    if (v.release)
        v.release(v.release_arg);
    return v.reason;
}

static mode_t mode_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void test_create_files_and_modes(void)
{
    fresh("modes");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    CU_ASSERT_EQUAL(mcpauth_store_count(s), 0);
    char key[96], id[16];
    new_key(s, "ci", 0, key, id);
    CU_ASSERT_EQUAL(mode_of(path), 0600);
    char *d = mcpauth__dirname(path);
    CU_ASSERT_EQUAL(mode_of(d), 0700);
    free(d);
    CU_ASSERT_EQUAL(strncmp(key, "mcp_live_", 9), 0);
    CU_ASSERT_EQUAL(strncmp(key + 9, id, 12), 0);
    /* the file holds the hash, never the key or its secret part */
    char *text = tu_read(path);
    CU_ASSERT_PTR_NULL(strstr(text, key + 9 + 12));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, id));
    free(text);
    CU_ASSERT_EQUAL(verify(s, key, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(s);
    /* a second handle reads what the first wrote */
    s = must_open(0);
    CU_ASSERT_EQUAL(mcpauth_store_count(s), 1);
    CU_ASSERT_EQUAL(verify(s, key, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(s);
}

static void test_missing_store(void)
{
    fresh("missing");
    mcpauth_error err;
    CU_ASSERT_PTR_NULL(open_store(0, &err));
    CU_ASSERT_EQUAL(err.status, MCPAUTH_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
}

static void test_permissions_refused(void)
{
    fresh("perms");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16];
    new_key(s, "ci", 0, key, id);
    mcpauth_store_close(s);
    mcpauth_error err;
    const mode_t bad[] = { 0644, 0640, 0604, 0660, 0666 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        chmod(path, bad[i]);
        CU_ASSERT_PTR_NULL(open_store(0, &err));
        CU_ASSERT_EQUAL(err.status, MCPAUTH_EPERM);
        char *want = tu_fmt("%s: permissions %04o are too open", path, (unsigned)bad[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
        free(want);
    }
    chmod(path, 0600);
    char *d = mcpauth__dirname(path);
    chmod(d, 0777);
    CU_ASSERT_PTR_NULL(open_store(0, &err));
    CU_ASSERT_EQUAL(err.status, MCPAUTH_EPERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "0777"));
    chmod(d, 0700);
    free(d);
    s = must_open(0);
    mcpauth_store_close(s);
}

static void test_corrupt_refused_not_overwritten(void)
{
    fresh("corrupt");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16];
    new_key(s, "ci", 0, key, id);
    const char *bad = "version: 1\nprefix: mcp\nkeys:\n  - id: \"unclosed\n";
    free(tu_write(dir, "corrupt/keys.yaml", bad));
    mcpauth_error err;
    CU_ASSERT_PTR_NULL(open_store(0, &err));
    CU_ASSERT_EQUAL(err.status, MCPAUTH_ECORRUPT);
    char *want = tu_fmt("%s:5:1:", path);
    if (!strstr(err.message, want))
        fprintf(stderr, "got: %s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
    free(want);
    /* a write through a handle that still holds the old keys fails and
     * leaves the corrupt file exactly as it was */
    mcpauth_key_spec sp = MCPAUTH_KEY_SPEC_INIT;
    sp.name = "other";
    char k2[96];
    CU_ASSERT_EQUAL(mcpauth_store_create(s, &sp, T0, k2, sizeof(k2), NULL, &err),
                    MCPAUTH_ECORRUPT);
    CU_ASSERT_EQUAL(mcpauth_store_revoke(s, id, T0, &err), MCPAUTH_ECORRUPT);
    char *text = tu_read(path);
    CU_ASSERT_STRING_EQUAL(text, bad);
    free(text);
    /* and the handle keeps serving its last good snapshot */
    CU_ASSERT_NOT_EQUAL(mcpauth_store_refresh(s, &err), MCPAUTH_OK);
    CU_ASSERT_EQUAL(verify(s, key, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(s);
}

static void expect_parse_error(const char *text, const char *where, const char *what)
{
    mcpauth__snap *snap = NULL;
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth__store_parse("k.yaml", text, strlen(text), &snap, &err),
                    MCPAUTH_ECORRUPT);
    CU_ASSERT_PTR_NULL(snap);
    if (!strstr(err.message, where) || !strstr(err.message, what))
        fprintf(stderr, "got: %s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, where));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
}

#define REC "  - id: \"AAAAAAAAAAAA\"\n    name: a\n    type: live\n" \
            "    created: 2027-01-01T00:00:00Z\n    hash: \"" \
            "0000000000000000000000000000000000000000000000000000000000000000\"\n"

/* The stored hash is decoded eight digits a step (keystore_load.c): every
 * printable character at every one of the 64 positions either decodes as
 * libsodium's hex2bin decodes it, in either case, or is refused. */
static void test_hash_hex_every_char(void)
{
    unsigned char bin[32], want[32];
    char hex[65], text[512];
    randombytes_buf(bin, sizeof(bin));
    sodium_bin2hex(hex, sizeof(hex), bin, sizeof(bin));
    int wrong = 0;
    for (int pos = 0; pos < 64; pos++)
        for (int c = 0x20; c < 0x7f; c++) {
            if (c == '"' || c == '\\')
                continue; /* not inside a double-quoted YAML string */
            char h[65];
            memcpy(h, hex, sizeof(h));
            h[pos] = (char)c;
            snprintf(text, sizeof(text),
                     "keys:\n  - id: \"AAAAAAAAAAAA\"\n    name: a\n    type: live\n"
                     "    created: 2027-01-01T00:00:00Z\n    hash: \"%s\"\n", h);
            size_t got = 0;
            int ok = sodium_hex2bin(want, sizeof(want), h, 64, NULL, &got, NULL) == 0 &&
                     got == sizeof(want);
            mcpauth__snap *snap = NULL;
            mcpauth_status st = mcpauth__store_parse("k.yaml", text, strlen(text), &snap, NULL);
            if (ok)
                wrong += st != MCPAUTH_OK || memcmp(snap->hashes[0].cur, want, 32) != 0;
            else
                wrong += st != MCPAUTH_ECORRUPT;
            mcpauth__snap_unref(snap);
        }
    CU_ASSERT_EQUAL(wrong, 0);
}

static void test_parse_errors_located(void)
{
    expect_parse_error("version: 2\nkeys: []\n", "k.yaml:1:10:", "unsupported store version");
    expect_parse_error("version: 1\nkey: []\n", "k.yaml:2:1:", "unknown key 'key'");
    expect_parse_error("keys:\n" REC "    colour: red\n", "k.yaml:7:5:",
                       "unknown field 'colour'");
    expect_parse_error("keys:\n" REC REC, "k.yaml:7:5:", "duplicate key id");
    expect_parse_error("keys:\n  - id: \"AAAAAAAAAAAA\"\n    name: a\n", "k.yaml:2:5:",
                       "needs id, name, type, created and hash");
    expect_parse_error("keys:\n  - id: short\n", "k.yaml:2:9:", "12 characters");
    expect_parse_error("keys:\n  - type: prod\n", "k.yaml:2:11:", "unknown key type");
    expect_parse_error("prefix: Bad\n", "k.yaml:1:9:", "bad key prefix");
    expect_parse_error("keys:\n  - hash: abc\n", "k.yaml:2:11:", "64 hexadecimal");
    expect_parse_error("a: &x 1\nb: *x\n", "k.yaml:1:1:", "unknown key 'a'");
    expect_parse_error("keys: 3\n", "k.yaml:1:7:", "must be a list");
    expect_parse_error("---\nkeys: []\n---\nkeys: []\n", "k.yaml:3:1:", "single YAML document");
    /* an empty file is an empty store */
    mcpauth__snap *snap = NULL;
    CU_ASSERT_EQUAL(mcpauth__store_parse("k.yaml", "", 0, &snap, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(snap->count, 0);
    mcpauth__snap_unref(snap);
    CU_ASSERT_EQUAL(mcpauth__store_parse("k.yaml", "keys:\n" REC, strlen("keys:\n" REC),
                                         &snap, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(snap->count, 1);
    CU_ASSERT_PTR_NULL(snap->keys[0].role);
    mcpauth__snap_unref(snap);
}

/* What a crash between write and rename leaves: a complete or partial
 * temporary file beside the store. The store itself is untouched. */
static void test_crash_before_rename(void)
{
    fresh("crash");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16];
    new_key(s, "ci", 0, key, id);
    char *before = tu_read(path);
    pid_t pid = fork();
    if (pid == 0) {
        /* the first half of mcpauth__write_atomic, then the crash (the
         * file is never closed). What the parent allocated is freed first:
         * under valgrind this child's own leak check sets its exit status. */
        char *tmp = tu_fmt("%s.tmpXXXXXX", path);
        int fd = mkstemp(tmp);
        int failed = fd < 0 || fchmod(fd, 0600) != 0 ||
            write(fd, "version: 1\nkeys:\n  - id: \"trunc", 31) != 31 || fsync(fd) != 0;
        free(tmp);
        free(before);
        mcpauth_store_close(s);
        _exit(failed);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *after = tu_read(path);
    CU_ASSERT_STRING_EQUAL(before, after);
    mcpauth_store *r = must_open(0);
    CU_ASSERT_EQUAL(verify(r, key, T0, NULL), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    /* the next write goes through despite the leftover */
    char k2[96], id2[16];
    new_key(s, "after", 0, k2, id2);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_store_count(r), 2);
    CU_ASSERT_EQUAL(verify(r, k2, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(r);
    mcpauth_store_close(s);
    free(before);
    free(after);
}

#define PER_WRITER 15

/* One of the concurrent writers, in a forked child. It first closes the
 * parent's store it inherited: under valgrind its own leak check sets its
 * exit status. */
static void writer_child(int which, mcpauth_store *inherited)
{
    mcpauth_store_close(inherited);
    mcpauth_store *s = open_store(MCPAUTH_STORE_CREATE, NULL);
    if (!s)
        _exit(1);
    for (int i = 0; i < PER_WRITER; i++) {
        char name[32], key[96];
        snprintf(name, sizeof(name), "w%d-%d", which, i);
        mcpauth_key_spec sp = MCPAUTH_KEY_SPEC_INIT;
        sp.name = name;
        if (mcpauth_store_create(s, &sp, T0, key, sizeof(key), NULL, NULL) != MCPAUTH_OK)
            _exit(2);
    }
    mcpauth_store_close(s);
    _exit(0);
}

static void test_concurrent_writers(void)
{
    fresh("concurrent");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16];
    new_key(s, "first", 0, key, id);
    pid_t kids[3];
    for (int w = 0; w < 3; w++)
        if ((kids[w] = fork()) == 0)
            writer_child(w, s);
    /* the parent revokes while the children write */
    CU_ASSERT_EQUAL(mcpauth_store_revoke(s, id, T0, NULL), MCPAUTH_OK);
    for (int w = 0; w < 3; w++) {
        int status = 0;
        waitpid(kids[w], &status, 0);
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CU_ASSERT_EQUAL(mcpauth_store_refresh(s, NULL), MCPAUTH_OK);
    mcpauth_key_list *l = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_list(s, &l, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(l->count, 1 + 3 * PER_WRITER);
    int seen[3][PER_WRITER];
    memset(seen, 0, sizeof(seen));
    for (size_t i = 1; i < l->count; i++) {
        int w, n;
        if (sscanf(l->keys[i].name, "w%d-%d", &w, &n) == 2 && w >= 0 && w < 3 &&
            n >= 0 && n < PER_WRITER)
            seen[w][n]++;
    }
    for (int w = 0; w < 3; w++)
        for (int n = 0; n < PER_WRITER; n++)
            CU_ASSERT_EQUAL(seen[w][n], 1);
    mcpauth_key_list_free(l);
    CU_ASSERT_EQUAL(verify(s, key, T0, NULL), MCPAUTH_REASON_REVOKED);
    mcpauth_store_close(s);
}

typedef struct events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char log[2048];
    int revoked;
} events;

static void on_change(void *arg, const char *type, const mcpauth_key_info *k,
                      const char *detail)
{
    events *e = arg;
    pthread_mutex_lock(&e->mu);
    char line[256];
    snprintf(line, sizeof(line), "%s %s %s|", type, k->name, detail ? detail : "-");
    strncat(e->log, line, sizeof(e->log) - strlen(e->log) - 1);
    if (!strcmp(type, "key.revoked"))
        e->revoked = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void on_log(void *arg, int level, const char *message)
{
    events *e = arg;
    (void)level;
    pthread_mutex_lock(&e->mu);
    strncat(e->log, message, sizeof(e->log) - strlen(e->log) - 1);
    strncat(e->log, "|", sizeof(e->log) - strlen(e->log) - 1);
    pthread_mutex_unlock(&e->mu);
}

typedef struct prefetcher {
    mcpauth_store *s;
    const char *key;
    atomic_int stop;
    long calls;
} prefetcher;

static void *prefetch_loop(void *arg)
{
    prefetcher *p = arg;
    while (!atomic_load(&p->stop)) {
        mcpauth_store_prefetch(p->s, p->key);
        /* Valgrind runs one thread at a time and a thread that never
         * blocks kept the lock from the one refreshing the store: this
         * test took 4 s or 150 s by luck. */
        if ((++p->calls & 63) == 0)
            sched_yield();
    }
    return NULL;
}

/* mcpauth_store_prefetch is a hint: any text changes no verdict. Another
 * thread prefetches all along while the snapshots it points at are swapped
 * out and freed, so it reads stale and torn table addresses; under ASan
 * (scripts/test.sh runs this suite there) a prefetch that turned into a
 * real load of a freed table would be reported. */
static void test_prefetch_is_a_hint(void)
{
    fresh("prefetch");
    mcpauth_store *w = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16], k2[96] = "", id2[16];
    new_key(w, "alpha", 0, key, id);
    mcpauth_store *r = must_open(0);
    prefetcher pf = { r, key, 0, 0 };
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, prefetch_loop, &pf), 0);
    const char *junk[] = { NULL, "", "mcp_", "mcp_live_garbage", key, k2 };
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++)
            mcpauth_store_prefetch(r, junk[i]);
        CU_ASSERT_EQUAL(verify(r, key, T0, NULL),
                        round < 2 ? MCPAUTH_REASON_OK : MCPAUTH_REASON_REVOKED);
        if (round == 0)
            new_key(w, "beta", 0, k2, id2);
        else if (round == 1)
            CU_ASSERT_EQUAL(mcpauth_store_revoke(w, id, T0, NULL), MCPAUTH_OK);
        CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    }
    for (int i = 0; i < 20; i++) {
        char k3[96], id3[16];
        new_key(w, "churn", 0, k3, id3);
        CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    }
    atomic_store(&pf.stop, 1);
    pthread_join(th, NULL);
    CU_ASSERT_TRUE(pf.calls > 0);
    mcpauth_store_prefetch(r, k2);
    CU_ASSERT_EQUAL(verify(r, k2, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(r);
    mcpauth_store_close(w);
}

static void test_refresh_sees_changes(void)
{
    fresh("refresh");
    mcpauth_store *w = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16], k2[96], id2[16];
    new_key(w, "alpha", 0, key, id);
    new_key(w, "beta", 0, k2, id2);
    events ev = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, "", 0 };
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.on_change = on_change;
    o.log = on_log;
    o.arg = &ev;
    mcpauth_store *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_open(&r, path, &o, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(verify(r, key, T0, NULL), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(mcpauth_store_revoke(w, id, T0 + 1000, NULL), MCPAUTH_OK);
    /* not seen until the reader refreshes */
    CU_ASSERT_EQUAL(verify(r, key, T0 + 2000, NULL), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(verify(r, key, T0 + 2000, NULL), MCPAUTH_REASON_REVOKED);
    CU_ASSERT_EQUAL(verify(r, k2, T0 + 2000, NULL), MCPAUTH_REASON_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ev.log, "key.revoked alpha -|"));
    /* update, rotate, create all reported */
    mcpauth_key_update u = { "beta2", 1, "admin", 0, 0, 0, NULL, 0, NULL };
    CU_ASSERT_EQUAL(mcpauth_store_update(w, id2, &u, T0, NULL, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ev.log, "key.updated beta2 name,role|"));
    char k3[96];
    CU_ASSERT_EQUAL(mcpauth_store_rotate(w, id2, HOUR, T0, k3, sizeof(k3), NULL, NULL),
                    MCPAUTH_OK);
    char k4[96], id4[16];
    new_key(w, "gamma", 0, k4, id4);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, NULL), MCPAUTH_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ev.log, "key.rotated beta2 previous secret valid until "
                                          "2027-01-15T09:00:00.000Z|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ev.log, "key.created gamma -|"));
    /* a store turned world-readable is refused; the last good keys serve */
    ev.log[0] = '\0';
    chmod(path, 0644);
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, &err), MCPAUTH_EPERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "0644"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ev.log, "keeping the last good key store (3 keys)"));
    CU_ASSERT_EQUAL(verify(r, k4, T0, NULL), MCPAUTH_REASON_OK);
    chmod(path, 0600);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, &err), MCPAUTH_OK);
    /* and a deleted store too */
    unlink(path);
    CU_ASSERT_EQUAL(mcpauth_store_refresh(r, &err), MCPAUTH_ENOTFOUND);
    CU_ASSERT_EQUAL(verify(r, k4, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(r);
    mcpauth_store_close(w);
}

/* The watcher thread reloads on its own. This waits for the event (up to
 * a generous bound, so a loaded machine does not fail it); it asserts that
 * the revoke arrives, not how fast. */
static void test_watcher_picks_up_revoke(void)
{
    fresh("watch");
    mcpauth_store *w = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16];
    new_key(w, "watched", 0, key, id);
    events ev = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, "", 0 };
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.flags = MCPAUTH_STORE_WATCH;
    o.reload_interval_ms = 200;
    o.on_change = on_change;
    o.arg = &ev;
    mcpauth_store *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_open(&r, path, &o, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(verify(r, key, T0, NULL), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(mcpauth_store_revoke(w, id, T0, NULL), MCPAUTH_OK);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&ev.mu);
    while (!ev.revoked && pthread_cond_timedwait(&ev.cv, &ev.mu, &until) != ETIMEDOUT)
        ;
    int got = ev.revoked;
    pthread_mutex_unlock(&ev.mu);
    CU_ASSERT_TRUE(got);
    CU_ASSERT_EQUAL(verify(r, key, T0, NULL), MCPAUTH_REASON_REVOKED);
    mcpauth_store_close(r);
    mcpauth_store_close(w);
}

static void test_verify_outcomes(void)
{
    fresh("verify");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16], ek[96], eid[16];
    new_key(s, "plain", 0, key, id);
    new_key(s, "expiring", T0 + DAY, ek, eid);
    mcpauth_key_verdict v;
    mcpauth_store_verify(s, key, T0, MCPAUTH_KEY_TYPE_LIVE, &v);
    CU_ASSERT_EQUAL(v.reason, MCPAUTH_REASON_OK);
    CU_ASSERT_STRING_EQUAL(v.principal->key_id, id);
    CU_ASSERT_STRING_EQUAL(v.principal->key_name, "plain");
    CU_ASSERT_STRING_EQUAL(v.principal->role, "reader");
    CU_ASSERT_STRING_EQUAL(v.principal->key_type, "live");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v.release);
    v.release(v.release_arg);
    /* live keys refused where only test keys are accepted */
    mcpauth_store_verify(s, key, T0, MCPAUTH_KEY_TYPE_TEST, &v);
    CU_ASSERT_EQUAL(v.reason, MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_PTR_NULL(v.release);
    /* a well-formed key with an unknown id or a wrong secret */
    char other[96];
    char fake_id[] = "ZZZZZZZZZZZZ";
    mcpauth__key_generate("mcp", "live", fake_id, other, sizeof(other));
    mcpauth_store_verify(s, other, T0, 3, &v);
    CU_ASSERT_EQUAL(v.reason, MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_STRING_EQUAL(v.key_id, fake_id);
    mcpauth__key_generate("mcp", "live", id, other, sizeof(other));
    CU_ASSERT_EQUAL(verify(s, other, T0, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    /* the same body under another prefix is another key */
    char *lmk = tu_fmt("lmk%s", key + 3);
    CU_ASSERT_EQUAL(verify(s, lmk, T0, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    free(lmk);
    CU_ASSERT_EQUAL(verify(s, "", T0, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_EQUAL(verify(s, "mcp_live_garbage", T0, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    /* expiry is exclusive of the expiry instant */
    CU_ASSERT_EQUAL(verify(s, ek, T0 + DAY - 1, NULL), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(verify(s, ek, T0 + DAY, NULL), MCPAUTH_REASON_EXPIRED);
    /* a wrong secret for an expired key says bad_credentials, not expired */
    mcpauth__key_generate("mcp", "live", eid, other, sizeof(other));
    CU_ASSERT_EQUAL(verify(s, other, T0 + 2 * DAY, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    mcpauth_store_close(s);
}

static void test_rotation_grace(void)
{
    fresh("rotate");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char old[96], id[16], nk[96];
    new_key(s, "svc", 0, old, id);
    mcpauth_key_info *info = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_rotate(s, id, 24 * HOUR, T0, nk, sizeof(nk),
                                               &info, NULL), MCPAUTH_OK);
    CU_ASSERT_STRING_EQUAL(info->id, id);
    CU_ASSERT_EQUAL(info->grace_until_ms, T0 + 24 * HOUR);
    mcpauth_key_info_free(info);
    CU_ASSERT_STRING_NOT_EQUAL(old, nk);
    CU_ASSERT_EQUAL(strncmp(nk + 9, id, 12), 0);
    int grace = -1;
    CU_ASSERT_EQUAL(verify(s, old, T0 + HOUR, &grace), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(grace, 1);
    CU_ASSERT_EQUAL(verify(s, nk, T0 + HOUR, &grace), MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(grace, 0);
    CU_ASSERT_EQUAL(verify(s, old, T0 + 24 * HOUR, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_EQUAL(verify(s, nk, T0 + 48 * HOUR, NULL), MCPAUTH_REASON_OK);
    /* rotating again without grace ends the old secrets at once */
    char k3[96];
    CU_ASSERT_EQUAL(mcpauth_store_rotate(s, id, 0, T0 + HOUR, k3, sizeof(k3), NULL, NULL),
                    MCPAUTH_OK);
    CU_ASSERT_EQUAL(verify(s, nk, T0 + HOUR, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_EQUAL(verify(s, old, T0 + HOUR, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_EQUAL(verify(s, k3, T0 + HOUR, NULL), MCPAUTH_REASON_OK);
    /* a revoked key is refused with either secret, and cannot be rotated */
    CU_ASSERT_EQUAL(mcpauth_store_rotate(s, id, HOUR, T0 + HOUR, nk, sizeof(nk), NULL, NULL),
                    MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_store_revoke(s, id, T0 + HOUR, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(verify(s, k3, T0 + HOUR, NULL), MCPAUTH_REASON_REVOKED);
    CU_ASSERT_EQUAL(verify(s, nk, T0 + HOUR, NULL), MCPAUTH_REASON_REVOKED);
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_store_rotate(s, id, 0, T0, k3, sizeof(k3), NULL, &err),
                    MCPAUTH_EINVAL);
    CU_ASSERT_EQUAL(k3[0], '\0');
    CU_ASSERT_EQUAL(mcpauth_store_revoke(s, id, T0, &err), MCPAUTH_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "already revoked"));
    mcpauth_store_close(s);
}

/* A store file with one key, id `id`, whose hashes are given in hex. */
static void write_grace_store(const char *id, const char *cur_hex,
                              const char *prev_hex)
{
    char *d = tu_fmt("%s/pick", dir);
    mkdir(d, 0700);
    char *text = tu_fmt("version: 1\nprefix: \"mcp\"\nkeys:\n"
                        "  - id: \"%s\"\n    name: \"svc\"\n    type: live\n"
                        "    created: \"2027-01-15T08:00:00.000Z\"\n"
                        "    hash: \"%s\"\n    previous_hash: \"%s\"\n"
                        "    grace_until: \"2027-01-16T08:00:00.000Z\"\n",
                        id, cur_hex, prev_hex);
    free(tu_write(d, "keys.yaml", text));
    free(text);
    free(d);
}

/* Verification compares the presented key with one of the two hashes,
 * picked by the first byte at which they differ (keystore.c,
 * hash_matches). Whichever that byte is, the current secret is accepted as
 * current, the previous one as in grace (until the grace ends), and no
 * other. The second hash of each pair is the first with one byte changed,
 * so the pick must look at exactly that byte. */
static void test_grace_pick_every_byte(void)
{
    static const unsigned at[] = { 0, 1, 15, 31 };
    char id[] = "PickPickPick", key[96], other[96];
    fresh("pick");
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        for (int known_is_prev = 0; known_is_prev <= 1; known_is_prev++) {
            unsigned char h[MCPAUTH__KEY_HASH_LEN], g[MCPAUTH__KEY_HASH_LEN];
            char hx[2 * sizeof(h) + 1], gx[2 * sizeof(g) + 1];
            size_t n = mcpauth__key_generate("mcp", "live", id, key, sizeof(key));
            mcpauth__key_generate("mcp", "live", id, other, sizeof(other));
            mcpauth__key_hash(key, n, h);
            memcpy(g, h, sizeof(g));
            g[at[i]] ^= 0x5a;
            sodium_bin2hex(hx, sizeof(hx), h, sizeof(h));
            sodium_bin2hex(gx, sizeof(gx), g, sizeof(g));
            write_grace_store(id, known_is_prev ? gx : hx, known_is_prev ? hx : gx);
            mcpauth_store *s = must_open(0);
            int grace = -1;
            CU_ASSERT_EQUAL(verify(s, key, T0, &grace), MCPAUTH_REASON_OK);
            CU_ASSERT_EQUAL(grace, known_is_prev);
            CU_ASSERT_EQUAL(verify(s, other, T0, NULL), MCPAUTH_REASON_BAD_CREDENTIALS);
            CU_ASSERT_EQUAL(verify(s, key, T0 + DAY, NULL),
                            known_is_prev ? MCPAUTH_REASON_BAD_CREDENTIALS
                                          : MCPAUTH_REASON_OK);
            mcpauth_store_close(s);
        }
    }
}

static void test_bad_input_writes_nothing(void)
{
    fresh("badinput");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key[96], id[16];
    new_key(s, "ok", 0, key, id);
    char *before = tu_read(path);
    mcpauth_error err;
    mcpauth_key_spec sp = MCPAUTH_KEY_SPEC_INIT;
    const char *bad_ips[] = { "10.0.0.0/33", NULL };
    sp.name = "x";
    sp.allowed_ips = bad_ips;
    CU_ASSERT_EQUAL(mcpauth_store_create(s, &sp, T0, key, sizeof(key), NULL, &err),
                    MCPAUTH_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "10.0.0.0/33"));
    sp.allowed_ips = NULL;
    sp.name = "tab\there";
    CU_ASSERT_EQUAL(mcpauth_store_create(s, &sp, T0, key, sizeof(key), NULL, &err),
                    MCPAUTH_EINVAL);
    sp.name = "\xff\xfe";
    CU_ASSERT_EQUAL(mcpauth_store_create(s, &sp, T0, key, sizeof(key), NULL, &err),
                    MCPAUTH_EINVAL);
    sp.name = "x";
    sp.type = "prod";
    CU_ASSERT_EQUAL(mcpauth_store_create(s, &sp, T0, key, sizeof(key), NULL, &err),
                    MCPAUTH_EINVAL);
    CU_ASSERT_EQUAL(mcpauth_store_revoke(s, "NOSUCHKEY000", T0, &err), MCPAUTH_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "NOSUCHKEY000"));
    CU_ASSERT_EQUAL(mcpauth_store_revoke(s, "../../etc", T0, &err), MCPAUTH_ENOTFOUND);
    mcpauth_key_update u = { NULL, 0, NULL, 0, 0, 1, bad_ips, 0, NULL };
    CU_ASSERT_EQUAL(mcpauth_store_update(s, id, &u, T0, NULL, &err), MCPAUTH_EINVAL);
    char *after = tu_read(path);
    CU_ASSERT_STRING_EQUAL(before, after);
    free(before);
    free(after);
    CU_ASSERT_EQUAL(mcpauth_key_check_cidr("2001:db8::/32"), MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_key_check_cidr("192.0.2.7"), MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_key_check_cidr("192.0.2.0/"), MCPAUTH_EINVAL);
    CU_ASSERT_EQUAL(mcpauth_key_check_cidr("2001:db8::/129"), MCPAUTH_EINVAL);
    CU_ASSERT_EQUAL(mcpauth_key_check_cidr("example.com"), MCPAUTH_EINVAL);
    mcpauth_store_close(s);
}

static void test_fields_roundtrip(void)
{
    fresh("roundtrip");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    const char *ips[] = { "10.0.0.0/8", "2001:db8::1", NULL };
    const char *tools[] = { "read_*", "say \"hi\"\\now", NULL };
    mcpauth_key_spec sp = { "Zoë's \"bot\" \\ #1: {x}", NULL, "test", T0 + DAY, ips, tools };
    char key[96];
    mcpauth_key_info *info = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_create(s, &sp, T0, key, sizeof(key), &info, NULL),
                          MCPAUTH_OK);
    CU_ASSERT_EQUAL(strncmp(key, "mcp_test_", 9), 0);
    mcpauth_store_close(s);
    s = must_open(0);
    mcpauth_key_info *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_get(s, info->id, &g, NULL), MCPAUTH_OK);
    CU_ASSERT_STRING_EQUAL(g->name, sp.name);
    CU_ASSERT_PTR_NULL(g->role);
    CU_ASSERT_STRING_EQUAL(g->type, "test");
    CU_ASSERT_EQUAL(g->created_ms, T0);
    CU_ASSERT_EQUAL(g->expires_ms, T0 + DAY);
    CU_ASSERT_STRING_EQUAL(g->allowed_ips[1], "2001:db8::1");
    CU_ASSERT_PTR_NULL(g->allowed_ips[2]);
    CU_ASSERT_STRING_EQUAL(g->allowed_tools[1], tools[1]);
    mcpauth_key_info_free(g);
    /* clear the lists, drop the expiry */
    mcpauth_key_update u = { NULL, 1, "ops", 1, 0, 1, NULL, 1, NULL };
    CU_ASSERT_EQUAL(mcpauth_store_update(s, info->id, &u, T0, &g, NULL), MCPAUTH_OK);
    CU_ASSERT_PTR_NULL(g->allowed_ips);
    CU_ASSERT_PTR_NULL(g->allowed_tools);
    CU_ASSERT_EQUAL(g->expires_ms, 0);
    CU_ASSERT_STRING_EQUAL(g->role, "ops");
    mcpauth_key_info_free(g);
    CU_ASSERT_EQUAL(mcpauth_store_get(s, "AAAAAAAAAAAA", &g, NULL), MCPAUTH_ENOTFOUND);
    mcpauth_key_info_free(info);
    mcpauth_store_close(s);
}

static void test_prefix_option(void)
{
    fresh("prefix");
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.flags = MCPAUTH_STORE_CREATE;
    o.prefix = "lmk";
    mcpauth_store *s = NULL;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_open(&s, path, &o, NULL), MCPAUTH_OK);
    char key[96], id[16];
    new_key(s, "p", 0, key, id);
    CU_ASSERT_EQUAL(strncmp(key, "lmk_live_", 9), 0);
    mcpauth_store_close(s);
    /* the prefix is the store's: a later opener with no prefix keeps it */
    s = must_open(MCPAUTH_STORE_CREATE);
    char k2[96], id2[16];
    new_key(s, "q", 0, k2, id2);
    CU_ASSERT_EQUAL(strncmp(k2, "lmk_live_", 9), 0);
    CU_ASSERT_EQUAL(verify(s, key, T0, NULL), MCPAUTH_REASON_OK);
    mcpauth_store_close(s);
    o.prefix = "Not_ok";
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_store_open(&s, path, &o, &err), MCPAUTH_EINVAL);
}

/* Many keys in one write: every key verifies, the records are the specs,
 * and a bad spec anywhere leaves the file as it was. */
static void test_create_batch(void)
{
    enum { N = 200 };
    fresh("batch");
    mcpauth_store *s = must_open(MCPAUTH_STORE_CREATE);
    char key0[96], id0[16];
    new_key(s, "existing", 0, key0, id0);
    static mcpauth_key_spec specs[N];
    static char keys[N][MCPAUTH_KEY_TEXT_MAX];
    static char names[N][16];
    const char *ips[] = { "10.0.0.0/8", NULL };
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "bulk-%d", i);
        specs[i] = (mcpauth_key_spec)MCPAUTH_KEY_SPEC_INIT;
        specs[i].name = names[i];
        specs[i].role = i % 2 ? "reader" : NULL;
        specs[i].type = i % 3 ? NULL : "test";
        specs[i].allowed_ips = i % 5 ? NULL : ips;
    }
    mcpauth_error err;
    CU_ASSERT_EQUAL_FATAL(mcpauth_store_create_batch(s, specs, N, T0, &keys[0][0],
                                                     sizeof(keys), &err), MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_store_count(s), N + 1);
    CU_ASSERT_EQUAL(mode_of(path), 0600);
    mcpauth_store_close(s);
    s = must_open(0); /* what another process would read */
    CU_ASSERT_EQUAL(mcpauth_store_count(s), N + 1);
    CU_ASSERT_EQUAL(verify(s, key0, T0, NULL), MCPAUTH_REASON_OK);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(strncmp(keys[i], i % 3 ? "mcp_live_" : "mcp_test_", 9), 0);
        CU_ASSERT_EQUAL(verify(s, keys[i], T0, NULL), MCPAUTH_REASON_OK);
        char id[MCPAUTH_KEY_ID_LEN + 1];
        memcpy(id, keys[i] + 9, MCPAUTH_KEY_ID_LEN);
        id[MCPAUTH_KEY_ID_LEN] = '\0';
        mcpauth_key_info *k = NULL;
        CU_ASSERT_EQUAL_FATAL(mcpauth_store_get(s, id, &k, NULL), MCPAUTH_OK);
        CU_ASSERT_STRING_EQUAL(k->name, names[i]);
        CU_ASSERT_EQUAL(k->created_ms, T0);
        CU_ASSERT((k->role != NULL) == (i % 2 != 0));
        CU_ASSERT((k->allowed_ips != NULL) == (i % 5 == 0));
        mcpauth_key_info_free(k);
    }
    /* the file holds no secret of the batch */
    char *before = tu_read(path);
    CU_ASSERT_PTR_NULL(strstr(before, keys[7] + 9 + 12));
    /* all or nothing: a bad spec at index 3 writes nothing, wipes the keys */
    specs[3].name = "tab\there";
    CU_ASSERT_EQUAL(mcpauth_store_create_batch(s, specs, N, T0, &keys[0][0],
                                               sizeof(keys), &err), MCPAUTH_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "key 3"));
    CU_ASSERT_EQUAL(keys[0][0], '\0');
    specs[3].name = names[3];
    CU_ASSERT_EQUAL(mcpauth_store_create_batch(s, specs, N, T0, &keys[0][0],
                                               sizeof(keys) - 1, &err), MCPAUTH_ERANGE);
    char *after = tu_read(path);
    CU_ASSERT_STRING_EQUAL(before, after);
    CU_ASSERT_EQUAL(mcpauth_store_count(s), N + 1);
    free(before);
    free(after);
    mcpauth_store_close(s);
}

/* A store large enough that its table, records and strings pass the
 * huge-page size (MCPAUTH__BULK_HUGE), where they are mapped on their own
 * and the records' arrays are copied as they grow: every key is still
 * found by its id, a missing id is not, and the big arrays sit on huge-page
 * boundaries (what the decision path's TLB savings rest on). Under ASan
 * the arrays come from calloc, so that their bounds are checked. */
static void test_large_snapshot(void)
{
    enum { N = 40000 };
    mcpauth__snap *s = mcpauth__snap_new("mcp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mcpauth__key_hashes h;
    memset(&h, 0, sizeof(h));
    char id[MCPAUTH__KEY_ID_LEN + 1], name[72];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "id%010d", i);
        snprintf(name, sizeof(name), "key %d with a name long enough to fill the arena %d", i, i);
        mcpauth_key_info k = { 0 };
        k.id = mcpauth__arena_strndup(&s->arena, id, strlen(id));
        k.name = mcpauth__arena_strndup(&s->arena, name, strlen(name));
        k.type = "live";
        CU_ASSERT_PTR_NOT_NULL_FATAL(k.name);
        h.cur[0] = (unsigned char)i;
        CU_ASSERT_EQUAL_FATAL(mcpauth__snap_push(s, &k, &h), MCPAUTH_OK);
    }
    size_t dup = 0;
    CU_ASSERT_EQUAL_FATAL(mcpauth__snap_index(s, &dup), MCPAUTH_OK);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "id%010d", i);
        long at = mcpauth__snap_find(s, id);
        CU_ASSERT_EQUAL_FATAL(at, i);
        snprintf(name, sizeof(name), "key %d with a name long enough to fill the arena %d", i, i);
        CU_ASSERT_STRING_EQUAL_FATAL(s->keys[at].name, name);
        CU_ASSERT_EQUAL_FATAL(s->hashes[at].cur[0], (unsigned char)i);
    }
    CU_ASSERT_EQUAL(mcpauth__snap_find(s, "id9999999999"), -1);
    if (MCPAUTH__BULK_MAPPED) {
        CU_ASSERT_EQUAL((uintptr_t)s->table % MCPAUTH__BULK_HUGE, 0);
        CU_ASSERT_EQUAL((uintptr_t)s->hashes % MCPAUTH__BULK_HUGE, 0);
        CU_ASSERT_EQUAL((uintptr_t)s->keys % MCPAUTH__BULK_HUGE, 0);
    }
    /* An impossible size is refused, not wrapped around. */
    CU_ASSERT_PTR_NULL(mcpauth__bulk_alloc(SIZE_MAX - 4096));
    mcpauth__snap_unref(s);
}

static int add(void)
{
    if (sodium_init() < 0)
        return -1;
    CU_pSuite s = CU_add_suite("keystore", setup, teardown);
    return !s || !CU_add_test(s, "create: 0600 file in 0700 dir", test_create_files_and_modes) ||
           !CU_add_test(s, "missing store refused", test_missing_store) ||
           !CU_add_test(s, "open permissions refused", test_permissions_refused) ||
           !CU_add_test(s, "corrupt file refused, not overwritten",
                        test_corrupt_refused_not_overwritten) ||
           !CU_add_test(s, "parse errors carry file:line:col", test_parse_errors_located) ||
           !CU_add_test(s, "hash: every character at every position", test_hash_hex_every_char) ||
           !CU_add_test(s, "crash between write and rename", test_crash_before_rename) ||
           !CU_add_test(s, "concurrent writers all land", test_concurrent_writers) ||
           !CU_add_test(s, "refresh picks up changes", test_refresh_sees_changes) ||
           !CU_add_test(s, "watcher picks up a revoke", test_watcher_picks_up_revoke) ||
           !CU_add_test(s, "verify outcomes", test_verify_outcomes) ||
           !CU_add_test(s, "prefetch is a hint", test_prefetch_is_a_hint) ||
           !CU_add_test(s, "rotation grace", test_rotation_grace) ||
           !CU_add_test(s, "grace: the hash compared is picked by any byte",
                        test_grace_pick_every_byte) ||
           !CU_add_test(s, "bad input writes nothing", test_bad_input_writes_nothing) ||
           !CU_add_test(s, "fields round-trip", test_fields_roundtrip) ||
           !CU_add_test(s, "prefix option", test_prefix_option) ||
           !CU_add_test(s, "create a batch in one write", test_create_batch) ||
           !CU_add_test(s, "a store past the huge-page size", test_large_snapshot);
}

int main(void)
{
    return tu_main(add);
}
