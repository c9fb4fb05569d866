/* test_api.c: the embedding API end to end: observe and events, principal
 * lifetime, dry runs, limits, misuse, and reloads under concurrent checks. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"
#include "mcpauth/plugin.h"
#include "testutil.h"

static char *dir;
static const char *sdir;

static int setup(void)
{
    dir = tu_mkdtemp();
    sdir = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    return sdir ? 0 : 1;
}

static int teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    return 0;
}

static char *entry(const char *label, const char *control, const char *config)
{
    return tu_fmt("  - plugin: %s/mcpauth_script.so\n    control: %s\n    name: %s\n"
                  "    config: %s\n", sdir, control, label, config);
}

static mcpauth *open_file(const char *name, const char *text)
{
    char *p = tu_write(dir, name, text);
    mcpauth *a = NULL;
    mcpauth_error err;
    if (mcpauth_open(&a, p, &err) != MCPAUTH_OK)
        fprintf(stderr, "\n%s\n", err.message);
    free(p);
    return a;
}

static int count_lines(const char *text, const char *line)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, line)); p += strlen(line))
        n++;
    return n;
}

static void test_observe_after_early_stop(void)
{
    char *rec = tu_fmt("%s/observe.log", dir);
    char *cfg1 = tu_fmt("{ vote: deny, reason: ip_denied, record: %s }", rec);
    char *cfg2 = tu_fmt("{ vote: allow, record: %s, principal: { key_id: k7, role: admin } }", rec);
    char *e1 = entry("gate", "requisite", cfg1), *e2 = entry("who", "required", cfg2);
    char *y = tu_fmt("version: 1\nstack:\n%s%s", e1, e2);
    mcpauth *a = open_file("observe.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    CU_ASSERT_EQUAL(mcpauth_check(a, &req, &d), MCPAUTH_OK);
    CU_ASSERT_FALSE(d.allowed);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_IP_DENIED);
    CU_ASSERT_EQUAL(d.http_status, 403);
    CU_ASSERT_STRING_EQUAL(d.plugin, "gate");
    CU_ASSERT_FALSE(d.has_principal); /* "who" never ran */
    char *log = tu_read(rec);
    CU_ASSERT_EQUAL(count_lines(log, "event gate policy.loaded\n"), 1);
    CU_ASSERT_EQUAL(count_lines(log, "observe gate deny ip_denied -\n"), 1);
    CU_ASSERT_EQUAL(count_lines(log, "observe who deny ip_denied -\n"), 1);
    free(log);
    mcpauth_close(a);
    free(y); free(e1); free(e2); free(cfg1); free(cfg2); free(rec);
}

static void test_principal_and_release(void)
{
    char *rec = tu_fmt("%s/principal.log", dir);
    char *cfg1 = tu_fmt("{ vote: allow, record: %s, principal: { key_id: k7, key_name: ci, role: admin, key_type: test } }", rec);
    char *e1 = entry("who", "required", cfg1);
    char *y = tu_fmt("version: 1\nstack:\n%s", e1);
    mcpauth *a = open_file("principal.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_TRUE(d.allowed);
    CU_ASSERT_TRUE(d.has_principal);
    CU_ASSERT_STRING_EQUAL(d.key_id, "k7");
    CU_ASSERT_STRING_EQUAL(d.key_name, "ci");
    CU_ASSERT_STRING_EQUAL(d.role, "admin");
    CU_ASSERT_STRING_EQUAL(d.key_type, "test");
    char *log = tu_read(rec);
    /* observe saw the principal, and it was released after observe. */
    const char *obs = strstr(log, "observe who allow ok k7\n");
    const char *rel = strstr(log, "release who\n");
    CU_ASSERT_PTR_NOT_NULL(obs);
    CU_ASSERT_PTR_NOT_NULL(rel);
    CU_ASSERT_TRUE(obs && rel && obs < rel);
    free(log);
    /* A dry run observes nothing. */
    int allowed = 0;
    CU_ASSERT_EQUAL(mcpauth_permits(a, &req, &allowed), MCPAUTH_OK);
    CU_ASSERT_TRUE(allowed);
    log = tu_read(rec);
    CU_ASSERT_EQUAL(count_lines(log, "observe who"), 1);
    free(log);
    mcpauth_close(a);
    free(y); free(e1); free(cfg1); free(rec);
}

static void test_limits_and_errors(void)
{
    char *e1 = entry("ok", "required", "{ vote: allow }");
    char *y = tu_fmt("version: 1\nlimits: { max_request_bytes: 1000 }\nstack:\n%s", e1);
    mcpauth *a = open_file("limits.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    req.bytes = 1000;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_TRUE(d.allowed);
    req.bytes = 1001;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_FALSE(d.allowed);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_TOO_LARGE);
    CU_ASSERT_EQUAL(d.http_status, 413);
    /* A request struct from an unknown version is refused, not guessed at. */
    mcpauth_request bad = MCPAUTH_REQUEST_INIT;
    bad.version = 99;
    CU_ASSERT_EQUAL(mcpauth_check(a, &bad, &d), MCPAUTH_EINVAL);
    CU_ASSERT_FALSE(d.allowed);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_INTERNAL_ERROR);
    CU_ASSERT_EQUAL(mcpauth_check(a, NULL, &d), MCPAUTH_EINVAL);
    CU_ASSERT_FALSE(d.allowed);
    mcpauth_close(a);
    /* No handle at all: deny, 500. */
    CU_ASSERT_EQUAL(mcpauth_check(NULL, &req, &d), MCPAUTH_EINVAL);
    CU_ASSERT_FALSE(d.allowed);
    CU_ASSERT_EQUAL(d.http_status, 500);
    mcpauth_close(NULL);
    free(y); free(e1);
    /* A plugin error: the check reports it and denies. */
    e1 = entry("broken", "optional", "{ vote: error }");
    y = tu_fmt("version: 1\nstack:\n%s", e1);
    a = open_file("error.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(mcpauth_check(a, &req, &d), MCPAUTH_EPLUGIN);
    CU_ASSERT_FALSE(d.allowed);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_INTERNAL_ERROR);
    CU_ASSERT_STRING_EQUAL(d.plugin, "broken");
    mcpauth_close(a);
    free(y); free(e1);
}

/* Plugins often format deny texts into a per-thread buffer; a later
 * instance of the same plugin must not rewrite the reported one. */
static void test_deny_text_kept(void)
{
    char *e1 = entry("first", "required", "{ vote: deny, reason: ip_denied, message: one, shared_buffer: true }");
    char *e2 = entry("second", "required", "{ vote: deny, reason: forbidden, message: two, shared_buffer: true }");
    char *y = tu_fmt("version: 1\nstack:\n%s%s", e1, e2);
    mcpauth *a = open_file("shared.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_IP_DENIED);
    CU_ASSERT_STRING_EQUAL(d.plugin, "first");
    CU_ASSERT_STRING_EQUAL(d.message, "one");
    mcpauth_close(a);
    free(y); free(e1); free(e2);
}

static void test_open_string_and_options(void)
{
    mcpauth *a = NULL;
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_open_string(&a, "version: 1\nstack: []\n", &err), MCPAUTH_OK);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_FALSE(d.allowed); /* empty stack fails closed */
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_FORBIDDEN);
    mcpauth_close(a);
    CU_ASSERT_EQUAL(mcpauth_open_string(&a, "version: [\n", &err), MCPAUTH_EPOLICY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "<string>:"));
    CU_ASSERT_EQUAL(mcpauth_open_ex(&a, "x", "y", NULL, &err), MCPAUTH_EINVAL);
    CU_ASSERT_EQUAL(mcpauth_open(&a, "/nonexistent/policy.yaml", &err), MCPAUTH_EPOLICY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "/nonexistent/policy.yaml: cannot read"));
}

/* ---- reload under load ---- */

typedef struct load_arg {
    mcpauth *a;
    atomic_int *stop;
    long checks, inconsistent;
} load_arg;

static void *checker(void *p)
{
    load_arg *l = p;
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    while (!atomic_load(l->stop)) {
        mcpauth_check(l->a, &req, &d);
        int gen_a = d.allowed && !strcmp(d.plugin, "gen-a");
        int gen_b = !d.allowed && d.reason == MCPAUTH_REASON_FORBIDDEN && !strcmp(d.plugin, "gen-b");
        if (!gen_a && !gen_b)
            l->inconsistent++;
        l->checks++;
    }
    return NULL;
}

/* latency_ns is measured when something reads it: an observer in the
 * stack, a trace, or MCPAUTH_CHECK_TIMED. A stack without observers gives
 * 0 and saves the clock read. */
static void test_latency_when_read(void)
{
    mcpauth *plain = open_file("plain.yaml", "version: 1\nstack:\n  - plugin: ipwhitelist\n"
                                             "    control: required\n"
                                             "    config: { allow: [10.0.0.0/8], per_key: false }\n");
    char *e = entry("who", "required", "{ vote: allow }");
    char *y = tu_fmt("version: 1\nstack:\n%s", e);
    mcpauth *observed = open_file("observed.yaml", y);
    free(y);
    free(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
    CU_ASSERT_PTR_NOT_NULL_FATAL(observed);
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    r.client_ip = "10.1.2.3";
    r.method = "ping";
    mcpauth_decision d;
    mcpauth_trace_entry t[2];
    size_t nt = 0;
    CU_ASSERT_EQUAL(mcpauth_check(plain, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed);
    CU_ASSERT_EQUAL(d.latency_ns, 0);
    CU_ASSERT_EQUAL(mcpauth_check_ex(plain, &r, MCPAUTH_CHECK_TIMED, &d, NULL, 0, NULL),
                    MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed && d.latency_ns > 0);
    CU_ASSERT_EQUAL(mcpauth_check_ex(plain, &r, 0, &d, t, 2, &nt), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed && d.latency_ns > 0 && nt == 1);
    r.now_ms = 1700000000000; /* injected time: an untimed check reads no clock */
    CU_ASSERT_EQUAL(mcpauth_check(plain, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed && d.latency_ns == 0);
    CU_ASSERT_EQUAL(mcpauth_check(observed, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed && d.latency_ns > 0);
    mcpauth_close(plain);
    mcpauth_close(observed);
}

/* prepare hooks run for every entry, first to last, before the first
 * vote, also for entries after an early stop and for dry runs; a request
 * refused for its size runs none. */
static void test_prepare_before_votes(void)
{
    char *rec = tu_fmt("%s/prepare.log", dir);
    char *c1 = tu_fmt("{ vote: deny, reason: ip_denied, record: %s, record_calls: true }", rec);
    char *c2 = tu_fmt("{ vote: allow, record: %s, record_calls: true }", rec);
    char *e1 = entry("gate", "requisite", c1), *e2 = entry("who", "required", c2);
    char *y = tu_fmt("version: 1\nlimits: { max_request_bytes: 100 }\nstack:\n%s%s", e1, e2);
    mcpauth *a = open_file("prepare.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    req.method = "ping";
    mcpauth_decision d;
    CU_ASSERT_EQUAL(mcpauth_check(a, &req, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(!d.allowed && d.reason == MCPAUTH_REASON_IP_DENIED);
    char *log = tu_read(rec);
    const char *want = "prepare gate\nprepare who\nvote gate\nobserve gate deny ip_denied -\n"
                       "observe who deny ip_denied -\n";
    CU_ASSERT_PTR_NOT_NULL(log && strstr(log, want));
    free(log);
    int allowed = 1;
    CU_ASSERT_EQUAL(mcpauth_permits(a, &req, &allowed), MCPAUTH_OK);
    CU_ASSERT_FALSE(allowed);
    log = tu_read(rec);
    CU_ASSERT_EQUAL(count_lines(log, "prepare who\n"), 2);
    CU_ASSERT_EQUAL(count_lines(log, "observe who"), 1);
    free(log);
    req.bytes = 101;
    CU_ASSERT_EQUAL(mcpauth_check(a, &req, &d), MCPAUTH_OK);
    CU_ASSERT_EQUAL(d.reason, MCPAUTH_REASON_TOO_LARGE);
    log = tu_read(rec);
    CU_ASSERT_EQUAL(count_lines(log, "prepare gate\n"), 2);
    free(log);
    mcpauth_close(a);
    free(y); free(e1); free(e2); free(c1); free(c2); free(rec);
}

/* With now_ms left 0, an entry that reads the time gets the wall clock,
 * read at the check (a timed check: script has an observe hook), however
 * many MCPAUTH_PLUGIN_NO_CLOCK entries come before it; an injected time is
 * passed through as it is. */
static void test_request_time(void)
{
    char *rec = tu_fmt("%s/time.log", dir);
    char *cfg = tu_fmt("{ vote: allow, record: %s, record_time: true }", rec);
    char *e = entry("who", "required", cfg);
    char *y = tu_fmt("version: 1\nstack:\n  - plugin: ipwhitelist\n    control: required\n"
                     "    config: { allow: [10.0.0.0/8], per_key: false }\n%s", e);
    mcpauth *a = open_file("time.yaml", y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    r.client_ip = "10.1.2.3";
    r.method = "ping";
    mcpauth_decision d;
    int64_t before = mcpauth_now_ms();
    CU_ASSERT_EQUAL(mcpauth_check(a, &r, &d), MCPAUTH_OK);
    int64_t after = mcpauth_now_ms();
    r.now_ms = 1700000000123;
    CU_ASSERT_EQUAL(mcpauth_check(a, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed);
    char *log = tu_read(rec);
    long long seen = 0, injected = 0;
    const char *t1 = log ? strstr(log, "time who ") : NULL;
    const char *t2 = t1 ? strstr(t1 + 1, "time who ") : NULL;
    CU_ASSERT_FATAL(t2 && sscanf(t1, "time who %lld", &seen) == 1 &&
                    sscanf(t2, "time who %lld", &injected) == 1);
    CU_ASSERT_TRUE(seen >= before && seen <= after);
    CU_ASSERT_EQUAL(injected, 1700000000123);
    free(log);
    mcpauth_close(a);
    free(y); free(e); free(cfg); free(rec);
}

/* An observer flagged MCPAUTH_PLUGIN_UNTIMED_OBSERVE (ratelimit) does not
 * make the check timed; any other observer in the stack does, and so does
 * the flag in a descriptor too old to carry it (the core must not read it). */
static void test_latency_untimed_observer(void)
{
    const char *rl = "  - plugin: ratelimit\n    control: required\n"
                     "    config: { requests_per_minute: 1000, by: ip }\n";
    char *y = tu_fmt("version: 1\nstack:\n%s", rl);
    mcpauth *untimed = open_file("untimed.yaml", y);
    free(y);
    char *e = entry("who", "required", "{ vote: allow }");
    y = tu_fmt("version: 1\nstack:\n%s%s", rl, e);
    mcpauth *mixed = open_file("mixed.yaml", y);
    free(y);
    free(e);
    y = tu_fmt("version: 1\nstack:\n%s  - plugin: %s/mcpauth_oldsize.so\n"
               "    control: required\n", rl, sdir);
    mcpauth *old = open_file("old.yaml", y);
    free(y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(untimed);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mixed);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    r.client_ip = "10.1.2.3";
    r.method = "ping";
    r.now_ms = 1700000000000;
    mcpauth_decision d;
    CU_ASSERT_EQUAL(mcpauth_check(untimed, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.reason == MCPAUTH_REASON_FORBIDDEN && d.latency_ns == 0);
    CU_ASSERT_EQUAL(mcpauth_check_ex(untimed, &r, MCPAUTH_CHECK_TIMED, &d, NULL, 0, NULL),
                    MCPAUTH_OK);
    CU_ASSERT_TRUE(d.latency_ns > 0);
    CU_ASSERT_EQUAL(mcpauth_check(mixed, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed && d.latency_ns > 0);
    CU_ASSERT_EQUAL(mcpauth_check(old, &r, &d), MCPAUTH_OK);
    CU_ASSERT_TRUE(d.allowed && d.latency_ns > 0);
    mcpauth_close(untimed);
    mcpauth_close(mixed);
    mcpauth_close(old);
}

/* MCPAUTH_SVC_HAS tells a plugin whether an older core's shorter services
 * table has a field; the core's own table has every field. */
static void test_services_table_size(void)
{
    mcpauth_services old;
    memset(&old, 0, sizeof(old));
    old.size = (uint32_t)offsetof(mcpauth_services, client_addr);
    CU_ASSERT_FALSE(MCPAUTH_SVC_HAS(&old, client_addr));
    CU_ASSERT_TRUE(MCPAUTH_SVC_HAS(&old, config_string_nodes));
    old.size = (uint32_t)sizeof(old);
    CU_ASSERT_TRUE(MCPAUTH_SVC_HAS(&old, client_addr));
}

static void test_reload_under_load(void)
{
    char *rec = tu_fmt("%s/reload.log", dir);
    char *ca = tu_fmt("{ vote: allow, record: %s }", rec);
    char *cb = tu_fmt("{ vote: deny, reason: forbidden, record: %s }", rec);
    char *ea = entry("gen-a", "required", ca), *eb = entry("gen-b", "required", cb);
    char *ya = tu_fmt("version: 1\nstack:\n%s", ea), *yb = tu_fmt("version: 1\nstack:\n%s", eb);
    mcpauth *a = open_file("reload.yaml", ya);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    atomic_int stop = 0;
    load_arg args[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (load_arg){ a, &stop, 0, 0 };
        pthread_create(&th[i], NULL, checker, &args[i]);
    }
    int reloads = 0;
    for (int i = 0; i < 40; i++) {
        free(tu_write(dir, "reload.yaml", i % 2 ? ya : yb));
        mcpauth_error err;
        reloads += mcpauth_reload(a, &err) == MCPAUTH_OK;
    }
    /* A broken policy is refused and the last good one keeps serving. */
    free(tu_write(dir, "reload.yaml", "version: 1\nstack: [\n"));
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_reload(a, &err), MCPAUTH_EPOLICY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "reload.yaml:3:1:"));
    atomic_store(&stop, 1);
    long checks = 0, bad = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        checks += args[i].checks;
        bad += args[i].inconsistent;
    }
    CU_ASSERT_EQUAL(reloads, 40);
    CU_ASSERT_TRUE(checks > 0);
    CU_ASSERT_EQUAL(bad, 0);
    /* The last successful reload wrote gen-a's policy (i = 39). */
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_TRUE(d.allowed);
    CU_ASSERT_STRING_EQUAL(d.plugin, "gen-a");
    char *log = tu_read(rec);
    CU_ASSERT_EQUAL(count_lines(log, "event gen-a policy.reload_failed\n"), 1);
    CU_ASSERT_EQUAL(count_lines(log, " policy.loaded\n"), 41);
    free(log);
    mcpauth_close(a);
    free(ya); free(yb); free(ea); free(eb); free(ca); free(cb); free(rec);
}

static int add(void)
{
    CU_pSuite s = CU_add_suite("api", setup, teardown);
    return !s || !CU_add_test(s, "observe runs for every entry after an early stop", test_observe_after_early_stop) ||
           !CU_add_test(s, "principal copied into the decision, released after observe", test_principal_and_release) ||
           !CU_add_test(s, "request size limit, bad requests, plugin errors", test_limits_and_errors) ||
           !CU_add_test(s, "string policies and open errors", test_open_string_and_options) ||
           !CU_add_test(s, "the kept deny's texts are copied", test_deny_text_kept) ||
           !CU_add_test(s, "latency measured when something reads it", test_latency_when_read) ||
           !CU_add_test(s, "an untimed observer reads no latency clock", test_latency_untimed_observer) ||
           !CU_add_test(s, "prepare hooks run first, in order", test_prepare_before_votes) ||
           !CU_add_test(s, "the request's time", test_request_time) ||
           !CU_add_test(s, "services table size and MCPAUTH_SVC_HAS", test_services_table_size) ||
           !CU_add_test(s, "reloads under concurrent checks", test_reload_under_load);
}

int main(void) { return tu_main(add); }
