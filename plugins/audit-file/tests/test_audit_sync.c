/* test_audit_sync.c: when the audit-file plugin syncs its log, seen from
 * outside. fsync and sync_file_range are defined here and exported (the
 * target has ENABLE_EXPORTS), so the dlopened plugin binds to these wrappers
 * instead of libc's; each counts the calls made on the log under test and
 * then calls the real function (dlsym RTLD_NEXT). Every test also asserts
 * that the wrappers saw the plugin's calls: were the interposition silently
 * lost, "no call" and "no wait" would pass for the wrong reason. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"
#include "writer.h"

#define SU_T0 1790000000000LL   /* injected request time */
#define SU_WAIT_S 20            /* only detects a failure: nothing sleeps */
#define SU_CHECKS 300

static char *su_dir;
static atomic_int su_errors;    /* audit-file errors logged (e.g. fsync) */

/* --- the interposed calls ------------------------------------------------- */

/* The log under test, by identity: the plugin syncs a duplicate descriptor,
 * so a descriptor number would not match. */
static atomic_ullong su_ino, su_dev;
static atomic_int su_fsyncs;        /* fsync on the log */
static atomic_int su_fsyncs_done;   /* ... that returned 0 */
static atomic_int su_fail_next;     /* fail the next fsync on the log (EIO) */
static atomic_int su_ranges;        /* sync_file_range on the log, any flags */
static atomic_int su_range_writes;  /* ... with flags SYNC_FILE_RANGE_WRITE */

/* When armed, the first fsync of the log waits here until released. The
 * checks' threads report to the main thread through the same lock. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* CLOCK_MONOTONIC, set up in su_setup */
    int armed, entered, released;
    int b_done, b_saw_a_blocked, b_in_log, b_fsyncs;
} su_gate = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int (*su_real_fsync)(int);
static int (*su_real_range)(int, off64_t, off64_t, unsigned int);
static pthread_once_t su_once = PTHREAD_ONCE_INIT;

static void su_resolve(void)
{
    su_real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    su_real_range = (int (*)(int, off64_t, off64_t, unsigned int))
        dlsym(RTLD_NEXT, "sync_file_range");
}

static int su_is_log(int fd)
{
    struct stat st;
    return atomic_load(&su_ino) != 0 && fstat(fd, &st) == 0 &&
           st.st_ino == atomic_load(&su_ino) &&
           st.st_dev == atomic_load(&su_dev);
}

static void su_gate_pass(void)
{
    pthread_mutex_lock(&su_gate.mu);
    if (su_gate.armed && !su_gate.entered) {
        su_gate.entered = 1;
        pthread_cond_broadcast(&su_gate.cv);
        while (!su_gate.released)
            pthread_cond_wait(&su_gate.cv, &su_gate.mu);
    }
    pthread_mutex_unlock(&su_gate.mu);
}

int fsync(int fd)
{
    pthread_once(&su_once, su_resolve);
    if (su_is_log(fd)) {
        atomic_fetch_add(&su_fsyncs, 1);
        su_gate_pass();
        if (atomic_exchange(&su_fail_next, 0)) {
            errno = EIO;
            return -1;
        }
        int r = su_real_fsync(fd);
        if (r == 0)
            atomic_fetch_add(&su_fsyncs_done, 1);
        return r;
    }
    return su_real_fsync(fd);
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
    pthread_once(&su_once, su_resolve);
    if (su_is_log(fd)) {
        atomic_fetch_add(&su_ranges, 1);
        if (flags == SYNC_FILE_RANGE_WRITE)
            atomic_fetch_add(&su_range_writes, 1);
    }
    return su_real_range(fd, off, n, flags);
}

/* Count (and gate) the calls on the file at path from now on. */
static void su_track(const char *path)
{
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    atomic_store(&su_dev, (unsigned long long)st.st_dev);
    atomic_store(&su_ino, (unsigned long long)st.st_ino);
    atomic_store(&su_fsyncs, 0);
    atomic_store(&su_fsyncs_done, 0);
    atomic_store(&su_ranges, 0);
    atomic_store(&su_range_writes, 0);
}

/* --- policies and checks --------------------------------------------------- */

static int su_setup(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&su_gate.cv, &ca);
    pthread_condattr_destroy(&ca);
    su_dir = tu_mkdtemp();
    return 0;
}

static int su_teardown(void)
{
    tu_rmtree_unless_kept(su_dir);
    pthread_cond_destroy(&su_gate.cv);
    return 0;
}

static void su_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level == 0 && strstr(msg, "audit-file"))
        atomic_fetch_add(&su_errors, 1);
}

/* A policy in su_dir/<sub>: a scripted gate that denies with `detail`
 * (so each policy's records can be told apart), then audit-file with cfg. */
static mcpauth *su_open(const char *sub, const char *detail, const char *cfg)
{
    char *d = tu_fmt("%s/%s", su_dir, sub);
    mkdir(d, 0700);
    char *yaml = tu_fmt(
        "version: 1\n"
        "stack:\n"
        "  - plugin: %s\n"
        "    control: required\n"
        "    name: gate\n"
        "    config: { vote: deny, reason: forbidden, detail: %s }\n"
        "  - plugin: audit-file\n"
        "    control: optional\n"
        "    config: { %s }\n",
        tu_script_so(), detail, cfg);
    char *p = tu_write(d, "policy.yaml", yaml);
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_options o = MCPAUTH_OPTIONS_INIT;
    o.log = su_log;
    mcpauth_status st = mcpauth_open_ex(&a, p, NULL, &o, &err);
    if (st != MCPAUTH_OK)
        fprintf(stderr, "open %s: %s\n", p, err.message);
    free(p);
    free(yaml);
    free(d);
    CU_ASSERT_EQUAL_FATAL(st, MCPAUTH_OK);
    return a;
}

static void su_check(mcpauth *a, int64_t t)
{
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    r.method = "tools/call";
    r.tool = "deploy";
    r.now_ms = t;
    mcpauth_check(a, &r, &d);
}

static int su_file_has(const char *path, const char *text)
{
    char *s = tu_read(path);
    int found = s && strstr(s, text) != NULL;
    free(s);
    return found;
}

static long su_count_lines(const char *path)
{
    char *s = tu_read(path);
    long n = 0;
    for (const char *p = s; p && *p; p++)
        n += *p == '\n';
    free(s);
    return n;
}

/* The chain verifies; how many records it holds, -1 when it does not. */
static long su_verified_records(const char *path)
{
    mcpauth_audit_verify_result res;
    mcpauth_error err;
    if (mcpauth_audit_verify(path, NULL, &res, &err) != MCPAUTH_OK) {
        fprintf(stderr, "verify %s: %s\n", path, err.message);
        return -1;
    }
    return (long)res.records;
}

/* --- a check does not wait for another check's fsync ----------------------- */

typedef struct su_checker {
    mcpauth *a;
    const char *log;
    const char *detail;
    int64_t t;
} su_checker;

static void *su_run_a(void *arg)
{
    su_checker *c = arg;
    su_check(c->a, c->t);
    return NULL;
}

/* B's check, then what a user of B would see when it returns. */
static void *su_run_b(void *arg)
{
    su_checker *c = arg;
    su_check(c->a, c->t);
    int in_log = su_file_has(c->log, c->detail);
    pthread_mutex_lock(&su_gate.mu);
    su_gate.b_in_log = in_log;
    su_gate.b_saw_a_blocked = su_gate.entered && !su_gate.released;
    su_gate.b_fsyncs = atomic_load(&su_fsyncs);
    su_gate.b_done = 1;
    pthread_cond_broadcast(&su_gate.cv);
    pthread_mutex_unlock(&su_gate.mu);
    return NULL;
}

/* Wait (gate lock held) until *flag is set or SU_WAIT_S pass; the flag. */
static int su_wait_for(const int *flag)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += SU_WAIT_S;
    int rc = 0;
    while (!*flag && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&su_gate.cv, &su_gate.mu, &dl);
    return *flag;
}

static void su_gate_arm(void)
{
    pthread_mutex_lock(&su_gate.mu);
    su_gate.armed = 1;
    su_gate.entered = su_gate.released = 0;
    su_gate.b_done = su_gate.b_saw_a_blocked = su_gate.b_in_log = 0;
    su_gate.b_fsyncs = 0;
    pthread_mutex_unlock(&su_gate.mu);
}

/* Let A's fsync go, always, so that a failure cannot hang the program. */
static void su_gate_release(void)
{
    pthread_mutex_lock(&su_gate.mu);
    su_gate.released = 1;
    su_gate.armed = 0;
    pthread_cond_broadcast(&su_gate.cv);
    pthread_mutex_unlock(&su_gate.mu);
}

/* Wait until the gated fsync has been entered; asserts it was (else the
 * wrapper never saw the fsync it should hold). */
static int su_wait_entered(void)
{
    pthread_mutex_lock(&su_gate.mu);
    int entered = su_wait_for(&su_gate.entered);
    pthread_mutex_unlock(&su_gate.mu);
    CU_ASSERT_TRUE(entered);
    return entered;
}

/* With A inside its fsync, start B and wait for it to finish. Returns
 * whether B finished; B's thread is left to join. */
static int su_run_b_while_a_syncs(su_checker *cb, pthread_t *tb, int *started)
{
    int entered = su_wait_entered();
    *started = entered && pthread_create(tb, NULL, su_run_b, cb) == 0;
    if (!*started)
        return 0;
    pthread_mutex_lock(&su_gate.mu);
    int done = su_wait_for(&su_gate.b_done);
    pthread_mutex_unlock(&su_gate.mu);
    return done;
}

static void test_check_does_not_wait_for_fsync(void)
{
    /* Two policies on one file share its writer, as a reload does. */
    const char *cfg = "path: ../wait.log, fsync: always";
    mcpauth *a = su_open("wait-a", "detail-of-check-a", cfg);
    mcpauth *b = su_open("wait-b", "detail-of-check-b", cfg);
    char *log = tu_fmt("%s/wait.log", su_dir);
    su_checker ca = { a, log, "detail-of-check-a", SU_T0 };
    su_checker cb = { b, log, "detail-of-check-b", SU_T0 + 1 };
    pthread_t ta, tb;
    int b_started = 0;
    su_track(log);              /* after the opens' own fsyncs */
    su_gate_arm();
    CU_ASSERT_EQUAL_FATAL(pthread_create(&ta, NULL, su_run_a, &ca), 0);
    int b_done = su_run_b_while_a_syncs(&cb, &tb, &b_started);
    su_gate_release();
    pthread_join(ta, NULL);
    if (b_started)
        pthread_join(tb, NULL);
    CU_ASSERT_TRUE(b_done);     /* a timeout: B waited for A's fsync */
    CU_ASSERT_TRUE(su_gate.b_saw_a_blocked);
    CU_ASSERT_TRUE(su_gate.b_in_log);
    CU_ASSERT_TRUE(su_gate.b_fsyncs >= 2);  /* B's check synced its record */
    mcpauth_close(a);
    mcpauth_close(b);
    CU_ASSERT_TRUE(su_file_has(log, "detail-of-check-a"));
    CU_ASSERT_TRUE(su_file_has(log, "detail-of-check-b"));
    CU_ASSERT_EQUAL(su_verified_records(log), 4);   /* 2 policy.loaded */
    CU_ASSERT_EQUAL(atomic_load(&su_errors), 0);
    atomic_store(&su_ino, 0);
    free(log);
}

/* --- what each fsync setting syncs ------------------------------------------ */

typedef struct su_counts {
    int fsyncs, ranges, range_writes;
    long lines, records;
} su_counts;

/* An empty log in su_dir/<sub>, made before anything opens it (the plugin
 * appends) and tracked by the wrappers from then on; caller frees. */
static char *su_empty_log(const char *sub)
{
    char *d = tu_fmt("%s/%s", su_dir, sub);
    mkdir(d, 0700);
    char *log = tu_write(d, "audit.log", "");
    free(d);
    su_track(log);
    return log;
}

/* SU_CHECKS checks through a policy in su_dir/<sub> with cfg, then close:
 * the calls seen on its log, and what the log holds. */
static su_counts su_run_checks(const char *sub, const char *cfg)
{
    char *log = su_empty_log(sub);   /* the open's own calls counted too */
    mcpauth *a = su_open(sub, "checked", cfg);
    for (int i = 0; i < SU_CHECKS; i++)
        su_check(a, SU_T0 + i);
    mcpauth_close(a);
    su_counts c = { atomic_load(&su_fsyncs), atomic_load(&su_ranges),
                    atomic_load(&su_range_writes), su_count_lines(log),
                    su_verified_records(log) };
    atomic_store(&su_ino, 0);
    free(log);
    return c;
}

static void test_interval_starts_writeback(void)
{
    su_counts c = su_run_checks("interval", "path: audit.log, fsync: interval");
    CU_ASSERT_TRUE(c.range_writes >= 1);
    CU_ASSERT_EQUAL(c.ranges, c.range_writes);  /* write-back only: no wait */
    CU_ASSERT_TRUE(c.fsyncs >= 1);
    CU_ASSERT_EQUAL(c.lines, SU_CHECKS + 1);    /* and policy.loaded */
    CU_ASSERT_EQUAL(c.records, SU_CHECKS + 1);
    CU_ASSERT_EQUAL(atomic_load(&su_errors), 0);
}

static void test_never_leaves_sync_to_kernel(void)
{
    /* The same run with interval first: the wrappers do see this
     * plugin's calls, so the zeros below mean none were made. */
    su_counts ctl = su_run_checks("never-ctl", "path: audit.log, fsync: interval");
    CU_ASSERT_TRUE_FATAL(ctl.fsyncs >= 1 && ctl.range_writes >= 1);
    su_counts c = su_run_checks("never", "path: audit.log, fsync: never");
    CU_ASSERT_EQUAL(c.ranges, 0);
    CU_ASSERT_EQUAL(c.fsyncs, 0);
    CU_ASSERT_EQUAL(c.lines, SU_CHECKS + 1);
    CU_ASSERT_EQUAL(c.records, SU_CHECKS + 1);
    CU_ASSERT_EQUAL(atomic_load(&su_errors), 0);
}

/* --- the writer itself ------------------------------------------------------ */

static void *su_flush_a(void *arg)
{
    af_writer *w = arg;
    static const char body[] = "\"event\":\"custom.a\"";
    af_writer_enqueue(w, body, sizeof(body) - 1);
    af_writer_flush(w, 1);
    return NULL;
}

static const af_settings su_always = { AF_FSYNC_ALWAYS, UINT64_C(1) << 40, 0 };

/* A writer with fsync: always on an empty log in su_dir/<sub>; *log is its
 * path (caller frees). */
static af_writer *su_writer(const char *sub, char **log)
{
    *log = su_empty_log(sub);
    return af_writer_acquire(*log, &su_always);
}

/* With fsync: always, a record is on disk before its flush returns, even
 * when another thread wrote it, in a batch whose fsync has not ended: B's
 * record is queued, A's flush writes it with A's own and blocks in its
 * fsync, then B flushes. B has nothing left to write, but it must not
 * return before an fsync that began after its record was written has
 * ended (its own, A's being held). */
static void test_always_syncs_what_another_wrote(void)
{
    char *log;
    af_writer *w = su_writer("unit", &log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    static const char b[] = "\"event\":\"custom.b\"";
    af_writer_enqueue(w, b, sizeof(b) - 1);
    su_gate_arm();
    pthread_t a;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&a, NULL, su_flush_a, w), 0);
    int entered = su_wait_entered();
    int done_before = atomic_load(&su_fsyncs_done);
    if (entered)
        af_writer_flush(w, 1);
    /* A's fsync is still held: only B's own can have ended */
    CU_ASSERT_EQUAL(atomic_load(&su_fsyncs_done), done_before + 1);
    su_gate_release();
    pthread_join(a, NULL);
    atomic_store(&su_ino, 0);
    uint64_t seq;
    char hash[65];
    CU_ASSERT_EQUAL(af_writer_release(w, &seq, hash), 1);
    CU_ASSERT_EQUAL(seq, 2);
    char *text = tu_read(log);
    CU_ASSERT_PTR_NOT_NULL(text && strstr(text, "custom.a"));
    CU_ASSERT_PTR_NOT_NULL(text && strstr(text, "custom.b"));
    free(text);
    free(log);
}

/* A failed fsync is reported once (the writer fails, so that on_error:
 * deny can act), and the next record that is written and synced clears
 * it; nothing is lost from the file. */
static void test_failed_fsync_is_reported(void)
{
    char *log;
    af_writer *w = su_writer("unit-eio", &log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    static const char a[] = "\"time\":\"2026-11-27T00:00:00.000Z\","
                            "\"event\":\"custom.a\"";
    static const char b[] = "\"time\":\"2026-11-27T00:00:00.001Z\","
                            "\"event\":\"custom.b\"";
    char msg[512];
    atomic_store(&su_fail_next, 1);
    af_writer_enqueue(w, a, sizeof(a) - 1);
    af_writer_flush(w, 1);
    CU_ASSERT_TRUE(af_writer_failed(w));
    CU_ASSERT_EQUAL(af_writer_take_report(w, msg, sizeof(msg)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "cannot fsync"));
    int before = atomic_load(&su_fsyncs_done);
    af_writer_enqueue(w, b, sizeof(b) - 1);
    af_writer_flush(w, 1);
    CU_ASSERT_FALSE(af_writer_failed(w));
    CU_ASSERT_EQUAL(af_writer_take_report(w, msg, sizeof(msg)), 2);
    CU_ASSERT_EQUAL(atomic_load(&su_fsyncs_done), before + 1);
    uint64_t seq;
    char hash[65];
    CU_ASSERT_EQUAL(af_writer_release(w, &seq, hash), 1);
    CU_ASSERT_EQUAL(seq, 2);
    CU_ASSERT_EQUAL(su_verified_records(log), 2);
    atomic_store(&su_ino, 0);
    free(log);
}

typedef struct su_release {
    af_writer *w;
    int last;
} su_release;

static void *su_release_first(void *arg)
{
    su_release *r = arg;
    uint64_t seq;
    char hash[65];
    r->last = af_writer_release(r->w, &seq, hash);
    return NULL;
}

/* Two holders of one writer release it while the first one's flush is in
 * its fsync: the first still holds the writer until that fsync ends, so
 * the second is not the last and frees nothing; the first, when its fsync
 * ends, closes the file. Had the first dropped its hold before syncing,
 * the second would free the writer under it. */
static void test_release_during_fsync(void)
{
    char *log;
    af_writer *w = su_writer("unit-release", &log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_EQUAL_FATAL(af_writer_acquire(log, &su_always), w);
    static const char a[] = "\"time\":\"2026-11-27T00:00:00.000Z\","
                            "\"event\":\"custom.a\"";
    af_writer_enqueue(w, a, sizeof(a) - 1);
    su_gate_arm();
    su_release first = { w, -1 };
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, su_release_first, &first), 0);
    su_wait_entered();
    uint64_t seq;
    char hash[65];
    CU_ASSERT_EQUAL(af_writer_release(w, &seq, hash), 0);
    su_gate_release();
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(first.last, 1);
    CU_ASSERT_EQUAL(su_verified_records(log), 1);
    atomic_store(&su_ino, 0);
    free(log);
}

static int su_add_suites(void)
{
    CU_pSuite s = CU_add_suite("audit-file sync", su_setup, su_teardown);
    if (!s)
        return -1;
    CU_add_test(s, "a check does not wait for another check's fsync",
                test_check_does_not_wait_for_fsync);
    CU_add_test(s, "interval starts write-back",
                test_interval_starts_writeback);
    CU_add_test(s, "never leaves sync to the kernel",
                test_never_leaves_sync_to_kernel);
    CU_add_test(s, "always: a flush syncs what another thread wrote",
                test_always_syncs_what_another_wrote);
    CU_add_test(s, "a failed fsync is reported, then cleared",
                test_failed_fsync_is_reported);
    CU_add_test(s, "a release waits for its own fsync before letting go",
                test_release_during_fsync);
    return 0;
}

int main(void)
{
    return tu_main(su_add_suites);
}
