/*
 * test_stress.c: checks from several threads while the policy is reloaded
 * and keys are revoked and rotated, through apikey + ratelimit + role +
 * audit-file. Run under ThreadSanitizer by scripts/test.sh (build-tsan,
 * TSAN_OPTIONS=halt_on_error=1:exitcode=66); in the other builds it is the
 * same consistency test without the race detector.
 *
 * Every check takes a ticket from one atomic clock before it starts (s) and
 * after it returns (e). A key change is *visible* at the end e of the first
 * check whose decision shows it (a revoked key denied `revoked`, a rotated
 * key's old secret denied `bad_credentials`, its new secret allowed). The
 * test asserts, after the run, from every decision logged:
 *   - each decision is one of the outcomes its credential can have;
 *   - no check that started after a change became visible (s > e) shows the
 *     state before the change: a revoked key is never allowed again, an old
 *     secret never again, a new secret never refused again;
 *   - every change did become visible;
 *   - the audit log verifies and holds exactly one decision record per
 *     mcpauth_check call.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fault/keytext.h"
#include "mcpauth/mcpauth.h"
#include "testutil.h"

#define CHECKERS 4
#define STATIC_KEYS 3
#define REVOKED_KEYS 6
#define ROTATED_KEYS 4
#define RELOADS 20
#define MAX_CHECKS 100000  /* per checker */
#define WALL_LIMIT_S 20    /* a bound on the run, never an assertion */

/* What a credential is, and so which decisions it may get. */
typedef enum cred_kind {
    C_VALID,        /* allow */
    C_FORBIDDEN,    /* a valid key calling a tool its role lacks: forbidden */
    C_BAD_SECRET,   /* bad_credentials */
    C_NONE,         /* no_credentials */
    C_PRE_REVOKED,  /* revoked */
    C_REVOKE,       /* allow, then revoked */
    C_ROT_OLD,      /* allow, then bad_credentials */
    C_ROT_NEW       /* bad_credentials, then allow; usable once published */
} cred_kind;

typedef struct cred {
    cred_kind kind;
    char key[MCPAUTH_KEY_TEXT_MAX];
    char id[MCPAUTH_KEY_ID_LEN + 1];
    atomic_int published;   /* C_ROT_NEW: key[] is written */
    atomic_int seen_after;  /* a decision showed the change */
} cred;

#define NCREDS (STATIC_KEYS * 3 + 2 + REVOKED_KEYS + 2 * ROTATED_KEYS)

typedef struct entry {
    uint64_t s, e;
    uint16_t cred;
    uint8_t allowed, reason;
} entry;

typedef struct checker {
    pthread_t t;
    unsigned seed;
    size_t n;
    entry *log;
} checker;

static char *dir, *store_path, *policy_path, *audit_path;
static cred creds[NCREDS];
static atomic_ullong clk;
static atomic_int stop, writer_done, reloader_done, checkers_running;
static atomic_int reload_failures;
static atomic_int progress; /* key changes and reloads done */
static atomic_int waiting;  /* threads in wait_checks */
static uint64_t reload_at[RELOADS][2]; /* start and end tickets, for reports */
static mcpauth *A;
static char failure[1100];
static pthread_mutex_t failure_mu = PTHREAD_MUTEX_INITIALIZER;

static void fail_once(const char *msg)
{
    pthread_mutex_lock(&failure_mu);
    if (!failure[0])
        snprintf(failure, sizeof(failure), "%s", msg);
    pthread_mutex_unlock(&failure_mu);
}

/* ---- setup ---------------------------------------------------------------- */

static int add_key(mcpauth_store *s, const char *name, cred *c, cred_kind kind)
{
    mcpauth_key_spec spec = MCPAUTH_KEY_SPEC_INIT;
    mcpauth_key_info *info = NULL;
    mcpauth_error err;
    spec.name = name;
    spec.role = "monitor";
    if (mcpauth_store_create(s, &spec, 0, c->key, sizeof(c->key), &info, &err)) {
        fprintf(stderr, "create: %s\n", err.message);
        return -1;
    }
    snprintf(c->id, sizeof(c->id), "%s", info->id);
    c->kind = kind;
    mcpauth_key_info_free(info);
    return 0;
}

/* Fill creds[]; returns the store the writer thread uses. */
static mcpauth_store *make_creds(void)
{
    mcpauth_store *s = NULL;
    mcpauth_error err;
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.flags = MCPAUTH_STORE_CREATE;
    if (mcpauth_store_open(&s, store_path, &o, &err) != MCPAUTH_OK)
        return NULL;
    size_t n = 0;
    int bad = 0;
    for (int i = 0; i < STATIC_KEYS; i++, n += 3) {
        bad |= add_key(s, "static", &creds[n], C_VALID);
        creds[n + 1] = creds[n];
        creds[n + 1].kind = C_FORBIDDEN;
        creds[n + 2] = creds[n];
        creds[n + 2].kind = C_BAD_SECRET;
        kt_flip_secret(creds[n + 2].key, i * 7 % KT_SECRET_LEN);
    }
    creds[n++].kind = C_NONE;
    bad |= add_key(s, "gone", &creds[n], C_PRE_REVOKED);
    bad |= mcpauth_store_revoke(s, creds[n++].id, 0, &err) != MCPAUTH_OK;
    for (int i = 0; i < REVOKED_KEYS; i++)
        bad |= add_key(s, "revoke-me", &creds[n++], C_REVOKE);
    for (int i = 0; i < ROTATED_KEYS; i++, n += 2) {
        bad |= add_key(s, "rotate-me", &creds[n], C_ROT_OLD);
        creds[n + 1].kind = C_ROT_NEW;
        memcpy(creds[n + 1].id, creds[n].id, sizeof(creds[n].id));
    }
    if (bad || n != NCREDS) {
        mcpauth_store_close(s);
        return NULL;
    }
    return s;
}

static int write_policy(void)
{
    char *y = tu_fmt(
        "version: 1\nstack:\n"
        "  - plugin: apikey\n    control: required\n"
        "    config: { store: keys.yaml, reload_interval: 10ms }\n"
        "  - plugin: ratelimit\n    control: required\n"
        "    config: { requests_per_minute: 1000000, burst: 1000000, by: principal,\n"
        "              max_failed_attempts: 0 }\n"
        "  - plugin: role\n    control: required\n"
        "  - plugin: audit-file\n    control: required\n"
        "    config: { path: audit.log, fsync: never, rotate_bytes: 4194304, keep: 1000 }\n");
    policy_path = tu_write(dir, "policy.yaml", y);
    free(y);
    return policy_path ? 0 : -1;
}

/* ---- the threads ---------------------------------------------------------- */

/* The decisions a credential may get, before and after its change. */
static int expected(cred_kind k, int after, int allowed, mcpauth_reason r)
{
    switch (k) {
    case C_VALID: return allowed;
    case C_FORBIDDEN: return !allowed && r == MCPAUTH_REASON_FORBIDDEN;
    case C_BAD_SECRET: return !allowed && r == MCPAUTH_REASON_BAD_CREDENTIALS;
    case C_NONE: return !allowed && r == MCPAUTH_REASON_NO_CREDENTIALS;
    case C_PRE_REVOKED: return !allowed && r == MCPAUTH_REASON_REVOKED;
    case C_REVOKE: return after ? !allowed && r == MCPAUTH_REASON_REVOKED : allowed;
    case C_ROT_OLD:
        return after ? !allowed && r == MCPAUTH_REASON_BAD_CREDENTIALS : allowed;
    case C_ROT_NEW:
        return after ? allowed : !allowed && r == MCPAUTH_REASON_BAD_CREDENTIALS;
    }
    return 0;
}

/* Does this decision show the credential's change? */
static int shows_change(cred_kind k, int allowed)
{
    return (k == C_REVOKE || k == C_ROT_OLD) ? !allowed : k == C_ROT_NEW && allowed;
}

/* Checkers may run at most BUDGET checks ahead of the writer's and the
 * reloader's progress, so that slow writes (fsync) still land among the
 * checks instead of after them; while either waits for checks (and once
 * both are done) there is no budget, so that nobody waits on a waiter. */
#define BUDGET 1500
static int may_check(void)
{
    if ((atomic_load(&writer_done) && atomic_load(&reloader_done)) ||
        atomic_load(&waiting) > 0 ||
        atomic_load(&clk) / 2 < (uint64_t)BUDGET * (2 + (uint64_t)atomic_load(&progress)))
        return 1;
    sched_yield();
    return 0;
}

static void *checker_main(void *arg)
{
    checker *c = arg;
    while (!atomic_load(&stop) && c->n < MAX_CHECKS) {
        if (!may_check())
            continue;
        /* Once every change is written, the last ones show only after the
         * store's watcher thread reloads the file: yield so that, on a
         * loaded machine, the checkers do not fill their logs before it
         * gets the CPU (a run once failed so: "its change never became
         * visible"). */
        if (atomic_load(&writer_done) && atomic_load(&reloader_done))
            sched_yield();
        unsigned i = (unsigned)rand_r(&c->seed) % NCREDS;
        cred *cr = &creds[i];
        if (cr->kind == C_ROT_NEW && !atomic_load(&cr->published))
            continue;
        mcpauth_request r = MCPAUTH_REQUEST_INIT;
        mcpauth_decision d;
        r.credential = cr->kind == C_NONE ? NULL : cr->key;
        r.client_ip = "198.51.100.7";
        r.method = "tools/call";
        r.tool = cr->kind == C_FORBIDDEN ? "set_light" : "get_status";
        r.transport = "http";
        entry *e = &c->log[c->n++];
        e->s = atomic_fetch_add(&clk, 1);
        mcpauth_check(A, &r, &d);
        e->e = atomic_fetch_add(&clk, 1);
        e->cred = (uint16_t)i;
        e->allowed = (uint8_t)d.allowed;
        e->reason = (uint8_t)d.reason;
        if (shows_change(cr->kind, d.allowed))
            atomic_store(&cr->seen_after, 1);
    }
    atomic_fetch_sub(&checkers_running, 1);
    return NULL;
}

/* Spin (yielding) until the checkers have made `n` more calls or all
 * stopped: pacing by progress, not by time. */
static void wait_checks(uint64_t n)
{
    atomic_fetch_add(&waiting, 1);
    uint64_t until = atomic_load(&clk) + 2 * n;
    while (atomic_load(&clk) < until && atomic_load(&checkers_running) > 0)
        sched_yield();
    atomic_fetch_sub(&waiting, 1);
}

static void *reloader_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < RELOADS && !atomic_load(&stop); i++) {
        mcpauth_error err;
        wait_checks(300);
        reload_at[i][0] = atomic_load(&clk);
        mcpauth_status rst = mcpauth_reload(A, &err);
        reload_at[i][1] = atomic_load(&clk);
        if (rst != MCPAUTH_OK) {
            atomic_fetch_add(&reload_failures, 1);
            fail_once(err.message);
        }
        atomic_fetch_add(&progress, 1);
    }
    atomic_store(&reloader_done, 1);
    return NULL;
}

/* Revoke and rotate through a second handle on the same file, as `mcpauth
 * key` in another process would; refresh that handle after each write. */
static void *writer_main(void *arg)
{
    mcpauth_store *s = arg;
    int rev = 0, rot = 0;
    for (size_t i = 0; i < NCREDS && !atomic_load(&stop); i++) {
        mcpauth_error err;
        mcpauth_status st = MCPAUTH_OK;
        cred *c = &creds[i];
        if (c->kind != C_REVOKE && c->kind != C_ROT_OLD)
            continue;
        wait_checks(300);
        if (c->kind == C_REVOKE) {
            st = mcpauth_store_revoke(s, c->id, 0, &err);
            rev++;
        } else if (c->kind == C_ROT_OLD) {
            cred *n = &creds[i + 1];
            st = mcpauth_store_rotate(s, c->id, 0, 0, n->key, sizeof(n->key), NULL, &err);
            if (st == MCPAUTH_OK)
                atomic_store(&n->published, 1);
            rot++;
        } else {
            continue;
        }
        if (st == MCPAUTH_OK)
            st = mcpauth_store_refresh(s, &err);
        if (st != MCPAUTH_OK)
            fail_once(err.message);
        atomic_fetch_add(&progress, 1);
    }
    if (rev != REVOKED_KEYS || rot != ROTATED_KEYS)
        fail_once("the writer did not finish its changes");
    atomic_store(&writer_done, 1);
    return NULL;
}

/* ---- the verdict ---------------------------------------------------------- */

/* The end ticket of the first decision that showed each change. */
static void visibility(checker *cs, uint64_t vis[NCREDS])
{
    for (size_t i = 0; i < NCREDS; i++)
        vis[i] = UINT64_MAX;
    for (int t = 0; t < CHECKERS; t++)
        for (size_t j = 0; j < cs[t].n; j++) {
            entry *e = &cs[t].log[j];
            if (shows_change(creds[e->cred].kind, e->allowed) && e->e < vis[e->cred])
                vis[e->cred] = e->e;
        }
}

/* A reload running between the change's visibility point and the check
 * (it swaps its new stack in before mcpauth_reload returns): the usual
 * suspect when an old state comes back (docs/security.md). */
static const char *reload_near(uint64_t vis, uint64_t s)
{
    static _Thread_local char buf[128];
    for (int i = 0; i < RELOADS; i++)
        if (reload_at[i][0] && reload_at[i][0] <= s && (!reload_at[i][1] || reload_at[i][1] >= vis)) {
            snprintf(buf, sizeof(buf), "reload %d ran over [%llu,%llu]", i,
                     (unsigned long long)reload_at[i][0], (unsigned long long)reload_at[i][1]);
            return buf;
        }
    return "no reload ran then";
}

static size_t judge(checker *cs)
{
    static uint64_t vis[NCREDS];
    size_t bad = 0;
    visibility(cs, vis);
    for (int t = 0; t < CHECKERS; t++)
        for (size_t j = 0; j < cs[t].n; j++) {
            entry *e = &cs[t].log[j];
            cred_kind k = creds[e->cred].kind;
            int after = e->s > vis[e->cred];
            int ok = expected(k, after, e->allowed, e->reason) ||
                     /* before or during visibility: either state is right */
                     (!after && expected(k, 1, e->allowed, e->reason));
            if (!ok && bad++ < 10)
                fprintf(stderr, "\ninconsistent: cred %u (kind %d, id %s) %s %s at [%llu,%llu],"
                        " change visible at %llu; %s\n", e->cred, (int)k, creds[e->cred].id,
                        e->allowed ? "allow" : "deny",
                        mcpauth_reason_name((mcpauth_reason)e->reason),
                        (unsigned long long)e->s, (unsigned long long)e->e,
                        (unsigned long long)vis[e->cred], reload_near(vis[e->cred], e->s));
        }
    for (size_t i = 0; i < NCREDS; i++) {
        cred_kind k = creds[i].kind;
        if ((k == C_REVOKE || k == C_ROT_OLD || k == C_ROT_NEW) && vis[i] == UINT64_MAX) {
            fprintf(stderr, "\ncred %zu (kind %d): its change never became visible\n", i, (int)k);
            bad++;
        }
    }
    return bad;
}

static uint64_t audit_decisions(void)
{
    mcpauth_audit_reader *r = NULL;
    const mcpauth_audit_record *rec;
    mcpauth_error err;
    uint64_t n = 0;
    mcpauth_status st;
    if (mcpauth_audit_open(&r, audit_path, &err) != MCPAUTH_OK)
        return 0;
    while ((st = mcpauth_audit_next(r, &rec, &err)) != MCPAUTH_ENOTFOUND) {
        if (st != MCPAUTH_OK)
            break;
        n += rec->is_decision;
    }
    mcpauth_audit_reader_free(r);
    return n;
}

/* ---- the run -------------------------------------------------------------- */

static int all_seen(void)
{
    for (size_t i = 0; i < NCREDS; i++) {
        cred_kind k = creds[i].kind;
        if ((k == C_REVOKE || k == C_ROT_OLD || k == C_ROT_NEW) &&
            !atomic_load(&creds[i].seen_after))
            return 0;
    }
    return 1;
}

/* Let the threads run until the writer and reloader are done and every
 * change has been seen (or the checkers are full), or the wall-clock bound.
 * Full checkers do not stop the writer and the reloader: on a loaded
 * machine the checkers could fill their logs before the last store write,
 * and stopping then failed the run for the machine's speed, not for
 * anything mcpauth did. */
static void run_until_done(void)
{
    time_t t0 = time(NULL);
    for (;;) {
        int changed = atomic_load(&writer_done) && atomic_load(&reloader_done);
        if (time(NULL) - t0 > WALL_LIMIT_S ||
            (changed && (all_seen() || atomic_load(&checkers_running) == 0)))
            break;
        sched_yield();
    }
    wait_checks(2000); /* some more checks after the last change was seen */
    atomic_store(&stop, 1);
}

static void test_stress(void)
{
    mcpauth_error err;
    checker cs[CHECKERS];
    pthread_t writer, reloader;
    mcpauth_store *ws = make_creds();
    CU_ASSERT_FATAL(ws != NULL);
    CU_ASSERT_FATAL(write_policy() == 0);
    CU_ASSERT_FATAL(mcpauth_open(&A, policy_path, &err) == MCPAUTH_OK);
    atomic_store(&checkers_running, CHECKERS);
    for (int t = 0; t < CHECKERS; t++) {
        cs[t] = (checker){ .seed = 7919u * (unsigned)(t + 1), .n = 0,
                           .log = calloc(MAX_CHECKS, sizeof(entry)) };
        CU_ASSERT_FATAL(cs[t].log != NULL);
        CU_ASSERT_FATAL(pthread_create(&cs[t].t, NULL, checker_main, &cs[t]) == 0);
    }
    CU_ASSERT_FATAL(pthread_create(&writer, NULL, writer_main, ws) == 0);
    CU_ASSERT_FATAL(pthread_create(&reloader, NULL, reloader_main, NULL) == 0);
    run_until_done();
    pthread_join(writer, NULL);
    pthread_join(reloader, NULL);
    uint64_t total = 0;
    for (int t = 0; t < CHECKERS; t++) {
        pthread_join(cs[t].t, NULL);
        total += cs[t].n;
    }
    mcpauth_close(A); /* flushes the audit log */
    mcpauth_store_close(ws);

    if (failure[0])
        fprintf(stderr, "\nstress: %s\n", failure);
    CU_ASSERT_EQUAL(failure[0], '\0');
    CU_ASSERT_EQUAL(atomic_load(&reload_failures), 0);
    CU_ASSERT_EQUAL(judge(cs), 0);
    mcpauth_audit_verify_result vr;
    mcpauth_status st = mcpauth_audit_verify(audit_path, NULL, &vr, &err);
    if (st != MCPAUTH_OK)
        fprintf(stderr, "\naudit verify: %s\n", err.message);
    CU_ASSERT_EQUAL(st, MCPAUTH_OK);
    CU_ASSERT_TRUE(vr.from_genesis);
    uint64_t logged = audit_decisions();
    if (logged != total)
        fprintf(stderr, "\naudit: %llu decision records for %llu checks\n",
                (unsigned long long)logged, (unsigned long long)total);
    CU_ASSERT_EQUAL(logged, total);
    fprintf(stderr, "\nstress: %llu checks, %d reloads, %d revocations, %d rotations, "
            "%u audit files\n", (unsigned long long)total, RELOADS, REVOKED_KEYS,
            ROTATED_KEYS, vr.files);
    for (int t = 0; t < CHECKERS; t++)
        free(cs[t].log);
}

static int setup(void)
{
    dir = tu_mkdtemp();
    store_path = tu_fmt("%s/keys.yaml", dir);
    audit_path = tu_fmt("%s/audit.log", dir);
    return dir ? 0 : 1;
}

static int teardown(void)
{
    for (size_t i = 0; i < NCREDS; i++)
        memset(creds[i].key, 0, sizeof(creds[i].key));
    tu_rmtree(dir);
    free(dir);
    free(store_path);
    free(policy_path);
    free(audit_path);
    return 0;
}

static int add(void)
{
    CU_pSuite s = CU_add_suite("stress", setup, teardown);
    if (!s)
        return -1;
    CU_add_test(s, "checks while reloading, revoking and rotating", test_stress);
    return 0;
}

int main(void)
{
    return tu_main(add);
}
