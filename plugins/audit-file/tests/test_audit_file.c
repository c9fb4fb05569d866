/* test_audit_file.c: the audit-file plugin and the audit reader/verifier,
 * end to end: stacks built from YAML, decisions through mcpauth_check, the
 * log read back through mcpauth/audit.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"

#define T0 1790000000000LL  /* 2026-09-21T...Z: injected request time */

static char *dir;

static int setup(void)
{
    dir = tu_mkdtemp();
    return 0;
}

static int teardown(void)
{
    tu_rmtree_unless_kept(dir);
    return 0;
}

/* The audit entry's control flag: on_error: deny needs required. */
static const char *audit_control = "optional";

/* A policy in sub-directory `sub`: a scripted gate that votes `vote` with
 * `reason` for principal k1/alice/admin, then audit-file with `cfg`. */
static char *write_policy(const char *sub, const char *vote, const char *reason,
                          const char *cfg)
{
    char *d = tu_fmt("%s/%s", dir, sub);
    mkdir(d, 0700);
    char *yaml = tu_fmt(
        "version: 1\n"
        "stack:\n"
        "  - plugin: %s\n"
        "    control: required\n"
        "    name: gate\n"
        "    config:\n"
        "      vote: %s\n"
        "      reason: %s\n"
        "      detail: scripted\n"
        "      principal: { key_id: k1, key_name: alice, role: admin }\n"
        "  - plugin: audit-file\n"
        "    control: %s\n"
        "    config: { %s }\n",
        tu_script_so(), vote, reason, audit_control, cfg);
    char *p = tu_write(d, "policy.yaml", yaml);
    free(yaml);
    free(d);
    return p;
}

static int log_errors;
static char last_log[1024];

static void count_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level == 0 && strstr(msg, "audit-file"))
        log_errors++;
    snprintf(last_log, sizeof(last_log), "%s", msg);
}

static mcpauth *open_policy(const char *path)
{
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_options o = MCPAUTH_OPTIONS_INIT;
    o.log = count_log;
    mcpauth_status st = mcpauth_open_ex(&a, path, NULL, &o, &err);
    if (st != MCPAUTH_OK)
        fprintf(stderr, "open %s: %s\n", path, err.message);
    CU_ASSERT_EQUAL_FATAL(st, MCPAUTH_OK);
    return a;
}

static mcpauth *open_sub(const char *sub, const char *vote, const char *reason,
                         const char *cfg)
{
    char *p = write_policy(sub, vote, reason, cfg);
    mcpauth *a = open_policy(p);
    free(p);
    return a;
}

static void check(mcpauth *a, int64_t t, const char *tool, mcpauth_decision *d)
{
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    mcpauth_decision tmp;
    r.credential = "mcp_live_SECRETSECRETSECRET";
    r.client_ip = "203.0.113.7";
    r.method = "tools/call";
    r.tool = tool;
    r.transport = "http";
    r.bytes = 321;
    r.now_ms = t;
    mcpauth_check(a, &r, d ? d : &tmp);
}

/* Read every record of the log at path: counts by event into the caller's
 * callback. Returns the number of records, -1 on a corrupt line. */
typedef void (*rec_fn)(const mcpauth_audit_record *r, void *arg);
static long read_all(const char *path, rec_fn fn, void *arg)
{
    mcpauth_audit_reader *r;
    mcpauth_error err;
    const mcpauth_audit_record *rec;
    long n = 0;
    if (mcpauth_audit_open(&r, path, &err) != MCPAUTH_OK)
        return -1;
    mcpauth_status st;
    while ((st = mcpauth_audit_next(r, &rec, &err)) == MCPAUTH_OK) {
        if (fn)
            fn(rec, arg);
        n++;
    }
    mcpauth_audit_reader_free(r);
    return st == MCPAUTH_ENOTFOUND ? n : -1;
}

static mcpauth_status verify(const char *path, const char *anchor,
                             mcpauth_audit_verify_result *res, char *msg)
{
    mcpauth_error err;
    err.message[0] = '\0';
    mcpauth_status st = mcpauth_audit_verify(path, anchor, res, &err);
    if (msg)
        snprintf(msg, 1024, "%s", err.message);
    return st;
}

/* --- every event type ---------------------------------------------------- */

typedef struct seen {
    int allow, deny, created, revoked, rotated, updated, expired, loaded,
        reload_failed;
    int fields_ok;
} seen;

static void tally(const mcpauth_audit_record *r, void *arg)
{
    seen *s = arg;
    if (r->is_decision) {
        *(r->allowed ? &s->allow : &s->deny) += 1;
        if (!r->allowed && !strcmp(r->reason, "forbidden"))
            s->fields_ok = r->http_status == 403 && !strcmp(r->plugin, "gate") &&
                           !strcmp(r->key_id, "k1") && !strcmp(r->key_name, "alice") &&
                           !strcmp(r->role, "admin") &&
                           !strcmp(r->client_ip, "203.0.113.7") &&
                           !strcmp(r->method, "tools/call") &&
                           !strcmp(r->tool, "deploy") && !strcmp(r->transport, "http") &&
                           r->bytes == 321 && r->time_ms == T0 + 1 &&
                           !strcmp(r->time, "2026-09-21T14:13:20.001Z") &&
                           r->resource == NULL && !strcmp(r->detail, "scripted");
        return;
    }
    const char *e = r->event;
    if (!strcmp(e, "key.created") && r->key_id && !strcmp(r->key_id, "k9")) s->created++;
    else if (!strcmp(e, "key.revoked")) s->revoked++;
    else if (!strcmp(e, "key.rotated")) s->rotated++;
    else if (!strcmp(e, "key.updated")) s->updated++;
    else if (!strcmp(e, "key.expired") && r->key_id && !strcmp(r->key_id, "k1")) s->expired++;
    else if (!strcmp(e, "policy.loaded")) s->loaded++;
    else if (!strcmp(e, "policy.reload_failed")) s->reload_failed++;
}

static void test_every_event_type(void)
{
    const char *cfg = "path: ../logs/all.log, fsync: never";
    /* Three policies share one log: one writer, one chain. */
    char *pa = write_policy("ev-a", "allow", "ok", cfg);
    mcpauth *a = open_policy(pa);
    mcpauth *b = open_sub("ev-b", "deny", "forbidden", cfg);
    mcpauth *c = open_sub("ev-c", "deny", "expired", cfg);
    mcpauth_decision d;
    check(a, T0, "read", &d);
    CU_ASSERT_TRUE(d.allowed);
    check(b, T0 + 1, "deploy", &d);
    CU_ASSERT_FALSE(d.allowed);
    check(c, T0 + 2, "read", &d);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_EXPIRED);
    mcpauth_notify(a, "key.created", "k9", "ci", "deployer", "created by test");
    mcpauth_notify(a, "key.revoked", "k9", "ci", "deployer", NULL);
    mcpauth_notify(a, "key.rotated", "k9", "ci", "deployer", "new secret");
    mcpauth_notify(a, "key.updated", "k9", "ci", "reader", "role changed");
    /* A broken policy file: the reload fails and the old policy says so. */
    char *good = tu_read(pa);
    char *sub = tu_fmt("%s/ev-a", dir);
    free(tu_write(sub, "policy.yaml", "version: 1\nstack: [ {plugin: \n"));
    mcpauth_error err;
    CU_ASSERT_NOT_EQUAL(mcpauth_reload(a, &err), MCPAUTH_OK);
    free(tu_write(sub, "policy.yaml", good));
    CU_ASSERT_EQUAL(mcpauth_reload(a, &err), MCPAUTH_OK);
    check(a, T0 + 3, "read", NULL);
    mcpauth_close(a);
    mcpauth_close(b);
    mcpauth_close(c);

    char *log = tu_fmt("%s/logs/all.log", dir);
    seen s;
    memset(&s, 0, sizeof(s));
    CU_ASSERT_EQUAL(read_all(log, tally, &s), 14);
    CU_ASSERT_EQUAL(s.allow, 2);
    CU_ASSERT_EQUAL(s.deny, 2);
    CU_ASSERT_TRUE(s.fields_ok);
    CU_ASSERT_EQUAL(s.created, 1);
    CU_ASSERT_EQUAL(s.revoked, 1);
    CU_ASSERT_EQUAL(s.rotated, 1);
    CU_ASSERT_EQUAL(s.updated, 1);
    CU_ASSERT_EQUAL(s.expired, 1);
    CU_ASSERT_EQUAL(s.loaded, 4);       /* three opens and one reload */
    CU_ASSERT_EQUAL(s.reload_failed, 1);
    mcpauth_audit_verify_result res;
    CU_ASSERT_EQUAL(verify(log, NULL, &res, NULL), MCPAUTH_OK);
    CU_ASSERT_EQUAL(res.records, 14);
    CU_ASSERT_TRUE(res.from_genesis);
    /* Never the credential. */
    char *text = tu_read(log);
    CU_ASSERT_PTR_NULL(strstr(text, "SECRET"));
    free(text);
    free(log);
    free(sub);
    free(good);
    free(pa);
}

/* --- escaping -------------------------------------------------------------- */

static const char *evil_tool =
    "x\",\"allowed\":true,\"reason\":\"ok\"}\n{\"seq\":1,\"bad\":\"\xff\xfe\xc0\xaf\t\x01 \\";

static void expect_evil(const mcpauth_audit_record *r, void *arg)
{
    int *ok = arg;
    if (!r->is_decision)
        return;
    const char *want =
        "x\",\"allowed\":true,\"reason\":\"ok\"}\n{\"seq\":1,\"bad\":\""
        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\t\x01 \\";
    *ok = !r->allowed && !strcmp(r->reason, "forbidden") && !strcmp(r->tool, want);
}

static void test_escaping(void)
{
    mcpauth *a = open_sub("esc", "deny", "forbidden", "path: esc.log");
    check(a, T0, evil_tool, NULL);
    mcpauth_close(a);
    char *log = tu_fmt("%s/esc/esc.log", dir);
    char *text = tu_read(log);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 2);          /* policy.loaded and the decision */
    int ok = 0;
    CU_ASSERT_EQUAL(read_all(log, expect_evil, &ok), 2);
    CU_ASSERT_TRUE(ok);
    mcpauth_audit_verify_result res;
    CU_ASSERT_EQUAL(verify(log, NULL, &res, NULL), MCPAUTH_OK);
    free(text);
    free(log);
}

/* --- rotation -------------------------------------------------------------- */

static int exists(const char *fmt, const char *a)
{
    char *p = tu_fmt(fmt, a);
    struct stat st;
    int r = stat(p, &st) == 0;
    free(p);
    return r;
}

/* A log of `n` decisions (plus policy.loaded) in dir/<sub>/audit.log. */
static char *make_log(const char *sub, const char *cfg, int n)
{
    mcpauth *a = open_sub(sub, "deny", "forbidden", cfg);
    for (int i = 0; i < n; i++)
        check(a, T0 + i, "tool", NULL);
    mcpauth_close(a);
    return tu_fmt("%s/%s/audit.log", dir, sub);
}

static void test_rotation_keeps_chain(void)
{
    char *log = make_log("rot", "path: audit.log, rotate_bytes: 2000, keep: 50", 40);
    CU_ASSERT_TRUE(exists("%s.1", log));
    CU_ASSERT_TRUE(exists("%s.3", log));
    struct stat st;
    CU_ASSERT_EQUAL(stat(log, &st), 0);
    CU_ASSERT_TRUE(st.st_size <= 2000);
    mcpauth_audit_verify_result res;
    char msg[1024];
    CU_ASSERT_EQUAL(verify(log, NULL, &res, msg), MCPAUTH_OK);
    CU_ASSERT_EQUAL(res.records, 41);
    CU_ASSERT_EQUAL(res.last_seq, 41);
    CU_ASSERT_TRUE(res.from_genesis);
    CU_ASSERT_TRUE(res.files > 3);
    CU_ASSERT_EQUAL(read_all(log, NULL, NULL), 41);
    free(log);
}

static void test_rotation_keep_limit(void)
{
    char *log = make_log("keep", "path: audit.log, rotate_bytes: 1000, keep: 2", 40);
    CU_ASSERT_TRUE(exists("%s.2", log));
    CU_ASSERT_FALSE(exists("%s.3", log));
    mcpauth_audit_verify_result res;
    CU_ASSERT_EQUAL(verify(log, NULL, &res, NULL), MCPAUTH_OK);
    CU_ASSERT_FALSE(res.from_genesis);  /* the oldest files were dropped */
    CU_ASSERT_EQUAL(res.last_seq, 41);
    CU_ASSERT_TRUE(res.first_seq > 1);
    CU_ASSERT_EQUAL(res.records, res.last_seq - res.first_seq + 1);
    free(log);
}

/* --- tampering ------------------------------------------------------------- */

typedef struct lines {
    char **v;
    size_t n;
} lines;

static lines load_lines(const char *path)
{
    lines l = { NULL, 0 };
    char *text = tu_read(path), *save = NULL;
    for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        l.v = realloc(l.v, (l.n + 1) * sizeof(char *));
        l.v[l.n++] = strdup(t);
    }
    free(text);
    return l;
}

static void save_lines(const char *path, lines *l)
{
    FILE *f = fopen(path, "w");
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s\n", l->v[i]);
    fclose(f);
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static void edit_line(const char *log);

/* Tamper with a fresh rotated log, then expect verify to fail at file:line. */
typedef void (*tamper_fn)(const char *log);

static void expect_tamper(const char *sub, tamper_fn fn, const char *file_suffix,
                          uint64_t line)
{
    char *log = make_log(sub, "path: audit.log, rotate_bytes: 3000, keep: 10", 30);
    mcpauth_audit_verify_result res;
    char msg[1024];
    CU_ASSERT_EQUAL_FATAL(verify(log, NULL, &res, msg), MCPAUTH_OK);
    CU_ASSERT_TRUE_FATAL(res.files >= 3);
    char *want = tu_fmt("%s%s", log, file_suffix);
    fn(want);
    CU_ASSERT_EQUAL(verify(log, NULL, &res, msg), MCPAUTH_ECORRUPT);
    CU_ASSERT_STRING_EQUAL(res.bad_file, want);
    CU_ASSERT_EQUAL(res.bad_line, line);
    char *where = tu_fmt("%s:%llu: ", want, (unsigned long long)line);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, where));
    if (fn == edit_line)
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, "edited"));
    free(where);
    free(want);
    free(log);
}

static void edit_line(const char *log)
{
    lines l = load_lines(log);
    char *p = strstr(l.v[3], "\"allowed\":false");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    *p = '\0';                             /* a forged allow, valid JSON */
    char *forged = tu_fmt("%s\"allowed\":true%s", l.v[3], p + 15);
    free(l.v[3]);
    l.v[3] = forged;
    save_lines(log, &l);
}

static void delete_line(const char *log)
{
    lines l = load_lines(log);
    free(l.v[2]);
    memmove(l.v + 2, l.v + 3, (l.n - 3) * sizeof(char *));
    l.n--;
    save_lines(log, &l);
}

static void insert_line(const char *log)
{
    lines l = load_lines(log);
    l.v = realloc(l.v, (l.n + 1) * sizeof(char *));
    memmove(l.v + 2, l.v + 1, (l.n - 1) * sizeof(char *));
    l.v[1] = strdup(l.v[2]);               /* a replayed record */
    l.n++;
    save_lines(log, &l);
}

static void reorder_lines(const char *log)
{
    lines l = load_lines(log);
    char *t = l.v[1];
    l.v[1] = l.v[2];
    l.v[2] = t;
    save_lines(log, &l);
}

/* The last record of the previous file goes: caught at the new file's
 * first line. */
static void delete_across_rotation(const char *current)
{
    char *p = tu_fmt("%s.1", current);
    lines l = load_lines(p);
    free(l.v[--l.n]);
    save_lines(p, &l);
    free(p);
}

/* Tampering inside PATH.1, a full rotated file. */
static void test_tamper_edit(void) { expect_tamper("t-edit", edit_line, ".1", 4); }
static void test_tamper_delete(void) { expect_tamper("t-del", delete_line, ".1", 3); }
/* The replayed copy sits where the original was; the original, now second,
 * is out of sequence. */
static void test_tamper_insert(void) { expect_tamper("t-ins", insert_line, ".1", 3); }
static void test_tamper_reorder(void) { expect_tamper("t-ord", reorder_lines, ".1", 2); }
static void test_tamper_rotation(void)
{
    expect_tamper("t-rot", delete_across_rotation, "", 1);
}

static void test_tamper_missing_file(void)
{
    char *log = make_log("t-miss", "path: audit.log, rotate_bytes: 2000, keep: 10", 40);
    char *p = tu_fmt("%s.2", log);
    CU_ASSERT_EQUAL(unlink(p), 0);
    mcpauth_audit_verify_result res;
    char msg[1024];
    CU_ASSERT_EQUAL(verify(log, NULL, &res, msg), MCPAUTH_ECORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "is missing"));
    free(p);
    free(log);
}

/* Cutting the tail verifies on its own; the hash kept elsewhere catches it. */
static void test_truncated_tail_needs_anchor(void)
{
    char *log = make_log("t-tail", "path: audit.log", 10);
    mcpauth_audit_verify_result res;
    CU_ASSERT_EQUAL(verify(log, NULL, &res, NULL), MCPAUTH_OK);
    char kept[65];
    memcpy(kept, res.last_hash, sizeof(kept));
    CU_ASSERT_EQUAL(verify(log, kept, &res, NULL), MCPAUTH_OK);
    lines l = load_lines(log);
    free(l.v[--l.n]);
    save_lines(log, &l);
    CU_ASSERT_EQUAL(verify(log, NULL, &res, NULL), MCPAUTH_OK);
    char msg[1024];
    CU_ASSERT_EQUAL(verify(log, kept, &res, msg), MCPAUTH_ECORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "truncated"));
    free(log);
}

/* --- concurrency ----------------------------------------------------------- */

#define NTHREADS 8
#define PER_THREAD 2000

typedef struct worker {
    mcpauth *a;
    int id;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    char tool[32];
    snprintf(tool, sizeof(tool), "t%d", w->id);
    for (int i = 0; i < PER_THREAD; i++)
        check(w->a, T0 + i, tool, NULL);
    return NULL;
}

typedef struct per_tool {
    int count[NTHREADS];
    int in_order;
    int64_t last[NTHREADS];
} per_tool;

static void count_tools(const mcpauth_audit_record *r, void *arg)
{
    per_tool *p = arg;
    if (!r->is_decision)
        return;
    int id = atoi(r->tool + 1);
    if (id < 0 || id >= NTHREADS)
        return;
    /* each thread's own records keep their order */
    if (r->time_ms < p->last[id])
        p->in_order = 0;
    p->last[id] = r->time_ms;
    p->count[id]++;
}

static void test_concurrent_writers(void)
{
    mcpauth *a = open_sub("conc", "allow", "ok", "path: audit.log, rotate_bytes: 1000000");
    pthread_t t[NTHREADS];
    worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){ a, i };
        pthread_create(&t[i], NULL, run_worker, &w[i]);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    mcpauth_close(a);
    char *log = tu_fmt("%s/conc/audit.log", dir);
    mcpauth_audit_verify_result res;
    char msg[1024];
    CU_ASSERT_EQUAL(verify(log, NULL, &res, msg), MCPAUTH_OK);
    CU_ASSERT_EQUAL(res.records, NTHREADS * PER_THREAD + 1);
    CU_ASSERT_EQUAL(res.last_seq, NTHREADS * PER_THREAD + 1);
    per_tool p;
    memset(&p, 0, sizeof(p));
    p.in_order = 1;
    read_all(log, count_tools, &p);
    for (int i = 0; i < NTHREADS; i++)
        CU_ASSERT_EQUAL(p.count[i], PER_THREAD);
    CU_ASSERT_TRUE(p.in_order);
    free(log);
}

/* --- files, errors, restarts ------------------------------------------------ */

static void test_file_modes(void)
{
    mcpauth *a = open_sub("modes", "allow", "ok", "path: private/logs/audit.log");
    check(a, T0, "x", NULL);
    mcpauth_close(a);
    struct stat st;
    char *p = tu_fmt("%s/modes/private", dir);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
    free(p);
    p = tu_fmt("%s/modes/private/logs", dir);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
    free(p);
    p = tu_fmt("%s/modes/private/logs/audit.log", dir);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
    free(p);
}

/* A path under a regular file can never be created, even by root. */
static void test_on_error_deny(void)
{
    char *sub = tu_fmt("%s/oe-deny", dir);
    mkdir(sub, 0700);
    free(tu_write(sub, "blocker", "not a directory\n"));
    log_errors = 0;
    audit_control = "required";
    mcpauth *a = open_sub("oe-deny", "allow", "ok",
                          "path: blocker/audit.log, on_error: deny");
    audit_control = "optional";
    mcpauth_decision d;
    for (int i = 0; i < 5; i++)
        check(a, T0 + i, "x", &d);
    CU_ASSERT_FALSE(d.allowed);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_INTERNAL_ERROR);
    CU_ASSERT_EQUAL(d.http_status, 500);
    mcpauth_close(a);
    CU_ASSERT_EQUAL(log_errors, 1);     /* reported once, not per request */
    /* A writable log: the entry abstains and the gate's allow stands. */
    audit_control = "required";
    a = open_sub("oe-ok", "allow", "ok", "path: audit.log, on_error: deny");
    audit_control = "optional";
    check(a, T0, "x", &d);
    CU_ASSERT_TRUE(d.allowed);
    mcpauth_close(a);
    free(sub);
}

static void test_on_error_allow(void)
{
    char *sub = tu_fmt("%s/oe-allow", dir);
    mkdir(sub, 0700);
    free(tu_write(sub, "blocker", "not a directory\n"));
    log_errors = 0;
    mcpauth *a = open_sub("oe-allow", "allow", "ok", "path: blocker/audit.log");
    mcpauth_decision d;
    for (int i = 0; i < 5; i++)
        check(a, T0 + i, "x", &d);
    CU_ASSERT_TRUE(d.allowed);
    mcpauth_close(a);
    CU_ASSERT_EQUAL(log_errors, 1);
    free(sub);
}

static void test_resume_after_restart(void)
{
    char *log = make_log("resume", "path: audit.log", 3);
    free(make_log("resume", "path: audit.log", 2));
    /* A crash cut the last record short: it is dropped on open. */
    FILE *f = fopen(log, "a");
    fputs("{\"seq\":8,\"time\":\"2026-", f);
    fclose(f);
    free(make_log("resume", "path: audit.log", 1));
    mcpauth_audit_verify_result res;
    char msg[1024];
    CU_ASSERT_EQUAL(verify(log, NULL, &res, msg), MCPAUTH_OK);
    CU_ASSERT_EQUAL(res.records, 9);
    CU_ASSERT_EQUAL(res.last_seq, 9);
    CU_ASSERT_TRUE(res.from_genesis);
    free(log);
}

static void test_log_allows_false(void)
{
    mcpauth *a = open_sub("noallow-a", "allow", "ok",
                          "path: ../noallow.log, log_allows: false");
    mcpauth *b = open_sub("noallow-b", "deny", "forbidden",
                          "path: ../noallow.log, log_allows: false");
    check(a, T0, "x", NULL);
    check(b, T0, "x", NULL);
    mcpauth_close(a);
    mcpauth_close(b);
    char *log = tu_fmt("%s/noallow.log", dir);
    seen s;
    memset(&s, 0, sizeof(s));
    CU_ASSERT_EQUAL(read_all(log, tally, &s), 3);
    CU_ASSERT_EQUAL(s.allow, 0);
    CU_ASSERT_EQUAL(s.deny, 1);
    free(log);
}

/* With fsync: always the record is in the file when check returns. */
static void test_fsync_always(void)
{
    mcpauth *a = open_sub("sync", "deny", "forbidden", "path: audit.log, fsync: always");
    check(a, T0, "now-on-disk", NULL);
    char *log = tu_fmt("%s/sync/audit.log", dir);
    char *text = tu_read(log);
    CU_ASSERT_PTR_NOT_NULL(text && strstr(text, "now-on-disk"));
    free(text);
    mcpauth_close(a);
    free(log);
}

static void test_dry_run_records_nothing(void)
{
    mcpauth *a = open_sub("dry", "deny", "forbidden", "path: audit.log");
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    int allowed = 1;
    r.now_ms = T0;
    mcpauth_permits(a, &r, &allowed);
    CU_ASSERT_FALSE(allowed);
    mcpauth_close(a);
    char *log = tu_fmt("%s/dry/audit.log", dir);
    CU_ASSERT_EQUAL(read_all(log, NULL, NULL), 1);   /* policy.loaded only */
    free(log);
}

static void test_config_errors(void)
{
    const char *bad[] = { "fsync: sometimes", "keep: -1", "rotate_bytes: 0",
                          "on_error: panic", "log_allows: maybe", "colour: red" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *cfg = tu_fmt("path: x.log, %s", bad[i]);
        char *p = write_policy("cfg", "allow", "ok", cfg);
        mcpauth *a = NULL;
        mcpauth_error err;
        CU_ASSERT_NOT_EQUAL(mcpauth_open(&a, p, &err), MCPAUTH_OK);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "policy.yaml:"));
        free(cfg);
        free(p);
    }
    char *p = write_policy("cfg", "allow", "ok", "fsync: never");
    mcpauth *a = NULL;
    mcpauth_error err;
    CU_ASSERT_NOT_EQUAL(mcpauth_open(&a, p, &err), MCPAUTH_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "path"));
    free(p);
}

/* --- the reader's filter ---------------------------------------------------- */

typedef struct fcount {
    mcpauth_audit_filter f;
    int n;
} fcount;

static void tally_match(const mcpauth_audit_record *r, void *arg)
{
    fcount *c = arg;
    c->n += mcpauth_audit_match(&c->f, r);
}

static void test_filter(void)
{
    char *log = tu_fmt("%s/logs/all.log", dir);   /* from test_every_event_type */
    fcount c = { MCPAUTH_AUDIT_FILTER_INIT, 0 };
    c.f.decision = 0;
    read_all(log, tally_match, &c);
    CU_ASSERT_EQUAL(c.n, 2);
    c = (fcount){ MCPAUTH_AUDIT_FILTER_INIT, 0 };
    c.f.reason = "expired";
    read_all(log, tally_match, &c);
    CU_ASSERT_EQUAL(c.n, 1);
    c = (fcount){ MCPAUTH_AUDIT_FILTER_INIT, 0 };
    c.f.key_id = "k9";
    read_all(log, tally_match, &c);
    CU_ASSERT_EQUAL(c.n, 4);
    c = (fcount){ MCPAUTH_AUDIT_FILTER_INIT, 0 };
    c.f.decision = 1;
    c.f.since_ms = T0 + 2;
    read_all(log, tally_match, &c);
    CU_ASSERT_EQUAL(c.n, 1);
    free(log);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("audit-file", setup, teardown);
    if (!s)
        return -1;
    CU_add_test(s, "every event type is recorded", test_every_event_type);
    CU_add_test(s, "filter", test_filter);
    CU_add_test(s, "escaping cannot break a line", test_escaping);
    CU_add_test(s, "rotation keeps the chain", test_rotation_keeps_chain);
    CU_add_test(s, "rotation keeps at most keep files", test_rotation_keep_limit);
    CU_add_test(s, "edited record detected", test_tamper_edit);
    CU_add_test(s, "deleted record detected", test_tamper_delete);
    CU_add_test(s, "inserted record detected", test_tamper_insert);
    CU_add_test(s, "reordered records detected", test_tamper_reorder);
    CU_add_test(s, "deletion across a rotation detected", test_tamper_rotation);
    CU_add_test(s, "missing rotated file detected", test_tamper_missing_file);
    CU_add_test(s, "truncated tail needs the kept hash", test_truncated_tail_needs_anchor);
    CU_add_test(s, "concurrent writers", test_concurrent_writers);
    CU_add_test(s, "file and directory modes", test_file_modes);
    CU_add_test(s, "on_error deny", test_on_error_deny);
    CU_add_test(s, "on_error allow", test_on_error_allow);
    CU_add_test(s, "resume after restart and crash", test_resume_after_restart);
    CU_add_test(s, "log_allows false", test_log_allows_false);
    CU_add_test(s, "fsync always", test_fsync_always);
    CU_add_test(s, "dry run records nothing", test_dry_run_records_nothing);
    CU_add_test(s, "config errors", test_config_errors);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
