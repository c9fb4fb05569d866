/*
 * test_ratelimit.c: the ratelimit plugin end to end through mcpauth_check,
 * with stacks written as YAML and time injected (never slept).
 *
 * The fakeauth test plugin stands in for apikey: "good:<id>[:<role>]" is a
 * valid key, "anon" an allowed request without principal, anything else
 * bad_credentials.
 */
#include <stdlib.h>
#include <string.h>

#include "rl_testutil.h"
#include "testutil.h"

#define IP_A "203.0.113.7"
#define IP_B "198.51.100.20"
#define MIN_MS INT64_C(60000)

static mcpauth *open_ok(const char *yaml)
{
    mcpauth_error err;
    mcpauth *a = rlt_open(yaml, &err);
    if (!a)
        fprintf(stderr, "policy failed: %s\n", err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    return a;
}

/* A denial the way a client sees it. */
static void assert_denied(const mcpauth_decision *d, mcpauth_reason reason,
                          const char *plugin, uint32_t retry_after)
{
    CU_ASSERT_EQUAL(d->allowed, 0);
    CU_ASSERT_STRING_EQUAL(mcpauth_reason_name(d->reason),
                           mcpauth_reason_name(reason));
    CU_ASSERT_EQUAL(d->http_status, mcpauth_reason_http_status(reason));
    if (plugin)
        CU_ASSERT_STRING_EQUAL(d->plugin, plugin);
    if (retry_after)
        CU_ASSERT_EQUAL(d->retry_after, retry_after);
}

/* ---- request rates ---- */

static const char *BY_IP_60_5 =
    "version: 1\n"
    "stack:\n"
    "  - plugin: ratelimit\n"
    "    control: required\n"
    "    config: { requests_per_minute: 60, burst: 5, by: ip }\n"
    "  - plugin: @FAKEAUTH@\n"
    "    control: required\n";

/* The example of the issue: 60/min, burst 5, eight requests at once. */
static void test_burst_example(void)
{
    mcpauth *a = open_ok(BY_IP_60_5);
    int allowed = 0;
    for (int i = 0; i < 8; i++) {
        mcpauth_decision d = rlt_check(a, "good:k1", IP_A, RLT_T0);
        if (d.allowed) {
            allowed++;
            CU_ASSERT_EQUAL(d.http_status, 200);
            continue;
        }
        assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "ratelimit", 0);
        CU_ASSERT_EQUAL(d.http_status, 429);
        CU_ASSERT(d.retry_after >= 1);
    }
    CU_ASSERT_EQUAL(allowed, 5);
    /* One more a second later, but only one. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:k1", IP_A, RLT_T0 + 999).allowed, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "good:k1", IP_A, RLT_T0 + 1000).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:k1", IP_A, RLT_T0 + 1000).allowed, 0);
    /* Another address has its own budget. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:k1", IP_B, RLT_T0).allowed, 1);
    rlt_close(a);
}

/* retry_after says when the same request would pass, rounded up. */
static void test_retry_after_exact(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { requests_per_minute: 6, burst: 1, by: ip }\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n");
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0).allowed, 1);
    mcpauth_decision d = rlt_check(a, "anon", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, NULL, 10);
    d = rlt_check(a, "anon", IP_A, RLT_T0 + 9001);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, NULL, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0 + 10000).allowed, 1);
    rlt_close(a);
}

/* burst defaults to requests_per_minute. */
static void test_default_burst(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { requests_per_minute: 3 }\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n");
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0).allowed, 1);
    mcpauth_decision d = rlt_check(a, "anon", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "ratelimit", 20);
    rlt_close(a);
}

/* 7 a minute is 8571.43 ms apart: no rounding of the interval. */
static void test_rate_not_dividing_a_minute(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { requests_per_minute: 7, burst: 3, by: ip }\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n");
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0 + 8571).allowed, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0 + 8572).allowed, 1);
    /* Two intervals after the first: 17142.86 ms. */
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0 + 17142).allowed, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0 + 17143).allowed, 1);
    rlt_close(a);
}

/* A steady stream of one request a millisecond for ten minutes gets
 * exactly the configured rate plus the burst, no more. */
static void test_sustained_rate(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { requests_per_minute: 120, burst: 1, by: ip }\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n");
    int allowed = 0;
    for (int64_t t = 0; t < 10 * MIN_MS; t += 10)
        allowed += rlt_check(a, "anon", IP_A, RLT_T0 + t).allowed;
    CU_ASSERT_EQUAL(allowed, 1200);
    rlt_close(a);
}

/* A time the arithmetic cannot represent fails closed, never open. */
static void test_absurd_time_fails_closed(void)
{
    mcpauth *a = open_ok(BY_IP_60_5);
    mcpauth_decision d = rlt_check(a, "good:k", IP_A, INT64_MAX / 2);
    assert_denied(&d, MCPAUTH_REASON_INTERNAL_ERROR, NULL, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "good:k", IP_A, RLT_T0).allowed, 1);
    rlt_close(a);
}

/* per_role: a rate per role, in the short and the long form. */
static void test_per_role(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config:\n"
        "      requests_per_minute: 10\n"
        "      by: principal\n"
        "      per_role:\n"
        "        admin: 100\n"
        "        device: { requests_per_minute: 2, burst: 1 }\n");
    int admin = 0, device = 0, plain = 0, other = 0;
    for (int i = 0; i < 200; i++) {
        admin += rlt_check(a, "good:adm:admin", IP_A, RLT_T0).allowed;
        device += rlt_check(a, "good:dev:device", IP_A, RLT_T0).allowed;
        plain += rlt_check(a, "good:plain", IP_A, RLT_T0).allowed;
        other += rlt_check(a, "good:oth:viewer", IP_A, RLT_T0).allowed;
    }
    CU_ASSERT_EQUAL(admin, 100);
    CU_ASSERT_EQUAL(device, 1);
    CU_ASSERT_EQUAL(plain, 10);
    CU_ASSERT_EQUAL(other, 10);
    /* The device's next request: 30 s later (2 a minute). */
    mcpauth_decision d = rlt_check(a, "good:dev:device", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "ratelimit", 30);
    CU_ASSERT_EQUAL(rlt_check(a, "good:dev:device", IP_A, RLT_T0 + 30000).allowed, 1);
    rlt_close(a);
}

/* per_role alone: principals of other roles, and requests without a
 * principal, are not limited. */
static void test_per_role_only(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { per_role: { device: 1 } }\n");
    CU_ASSERT_EQUAL(rlt_check(a, "good:d:device", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:d:device", IP_A, RLT_T0).allowed, 0);
    for (int i = 0; i < 50; i++) {
        CU_ASSERT_EQUAL(rlt_check(a, "good:x:admin", IP_A, RLT_T0).allowed, 1);
        CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0).allowed, 1);
    }
    rlt_close(a);
}

static const char *BY_PRINCIPAL =
    "version: 1\n"
    "stack:\n"
    "  - plugin: @FAKEAUTH@\n"
    "    control: required\n"
    "  - plugin: ratelimit\n"
    "    control: required\n"
    "    config: { requests_per_minute: 60, burst: 2, by: principal }\n";

/* by: principal: one budget per key id, wherever it comes from. */
static void test_by_principal(void)
{
    mcpauth *a = open_ok(BY_PRINCIPAL);
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_B, RLT_T0).allowed, 1);
    mcpauth_decision d = rlt_check(a, "good:alice", "192.0.2.99", RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "ratelimit", 1);
    /* Bob on the same address is not affected. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:bob", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:bob", IP_A, RLT_T0).allowed, 1);
    /* No principal: nothing for a by-principal limiter to count. */
    for (int i = 0; i < 5; i++) {
        d = rlt_check(a, "anon", IP_A, RLT_T0);
        CU_ASSERT_EQUAL(d.allowed, 1);
    }
    rlt_close(a);
}

/* by: ip: every principal behind one address shares its budget. */
static void test_by_ip(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { requests_per_minute: 60, burst: 2, by: ip }\n");
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:bob", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:carol", IP_A, RLT_T0).allowed, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "good:carol", IP_B, RLT_T0).allowed, 1);
    /* The same address written as IPv4-mapped IPv6 is the same client. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:dave", "::ffff:203.0.113.7", RLT_T0).allowed, 0);
    /* A text that is no address is a client of its own, as given; so is
     * "no address" (stdio), and neither shares with the other. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:erin", "not-an-ip", RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:erin", "not-an-ip", RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:erin", "not-an-ip", RLT_T0).allowed, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "good:erin", "not-an-ip2", RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:frank", NULL, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:frank", NULL, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:frank", NULL, RLT_T0).allowed, 0);
    rlt_close(a);
}

/* by: auto (the default): the principal when there is one, else the IP. */
static void test_by_auto(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config: { requests_per_minute: 60, burst: 2 }\n");
    /* Two principals behind one address: two budgets. */
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
        CU_ASSERT_EQUAL(rlt_check(a, "good:bob", IP_A, RLT_T0).allowed, 1);
    }
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 0);
    /* Without a principal the address counts, apart from the principals. */
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_A, RLT_T0).allowed, 1);
    mcpauth_decision d = rlt_check(a, "anon", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "ratelimit", 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_B, RLT_T0).allowed, 1);
    /* Requests without an address share one budget. */
    CU_ASSERT_EQUAL(rlt_check(a, "anon", NULL, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", NULL, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", NULL, RLT_T0).allowed, 0);
    rlt_close(a);
}

/* The documented pattern: per address before authentication, per key
 * after it. Two instances, two independent limiters. */
static void test_two_entries_independent(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    name: per_ip\n"
        "    control: requisite\n"
        "    config: { requests_per_minute: 60, burst: 4, by: ip }\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n"
        "  - plugin: ratelimit\n"
        "    name: per_key\n"
        "    control: required\n"
        "    config: { requests_per_minute: 60, burst: 2, by: principal,\n"
        "              max_failed_attempts: 0 }\n");
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
    mcpauth_decision d = rlt_check(a, "good:alice", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "per_key", 1);
    /* That was the address's third request; bob gets its fourth. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:bob", IP_A, RLT_T0).allowed, 1);
    d = rlt_check(a, "good:bob", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "per_ip", 1);
    /* Alice from elsewhere: the address budget is fresh, hers is not. */
    d = rlt_check(a, "good:alice", IP_B, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_RATE_LIMITED, "per_key", 1);
    rlt_close(a);
}

/* Dry runs (mcpauth_permits, tools/list) consume nothing. */
static void test_dry_run_consumes_nothing(void)
{
    mcpauth *a = open_ok(BY_IP_60_5);
    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(rlt_dry(a, "good:k", IP_A, RLT_T0).allowed, 1);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    req.credential = "good:k";
    req.client_ip = IP_A;
    req.now_ms = RLT_T0;
    int ok = 0;
    CU_ASSERT_EQUAL(mcpauth_permits(a, &req, &ok), MCPAUTH_OK);
    CU_ASSERT_EQUAL(ok, 1);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(rlt_check(a, "good:k", IP_A, RLT_T0).allowed, 1);
    /* Now exhausted: a dry run says so, without consuming either. */
    CU_ASSERT_EQUAL(rlt_dry(a, "good:k", IP_A, RLT_T0).allowed, 0);
    CU_ASSERT_EQUAL(mcpauth_permits(a, &req, &ok), MCPAUTH_OK);
    CU_ASSERT_EQUAL(ok, 0);
    CU_ASSERT_EQUAL(rlt_check(a, "good:k", IP_A, RLT_T0 + 1000).allowed, 1);
    rlt_close(a);
}

/* ---- failed attempts and lockout ---- */

static const char *LOCKOUT_3 =
    "version: 1\n"
    "stack:\n"
    "  - plugin: ratelimit\n"
    "    control: requisite\n"
    "    config: { max_failed_attempts: 3, failure_window: 15m,\n"
    "              lockout: 30m }\n"
    "  - plugin: @FAKEAUTH@\n"
    "    control: required\n";

static void bad_keys(mcpauth *a, const char *ip, int n, int64_t now_ms)
{
    for (int i = 0; i < n; i++) {
        mcpauth_decision d = rlt_check(a, "wrong-key", ip, now_ms);
        assert_denied(&d, MCPAUTH_REASON_BAD_CREDENTIALS, NULL, 0);
    }
}

/* Three bad keys lock the address out, valid key or not, until the
 * lockout ends; other addresses and the same key elsewhere are fine. */
static void test_lockout(void)
{
    mcpauth *a = open_ok(LOCKOUT_3);
    bad_keys(a, IP_A, 3, RLT_T0);
    mcpauth_decision d = rlt_check(a, "good:alice", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1800);
    CU_ASSERT_EQUAL(d.http_status, 429);
    d = rlt_check(a, "wrong-key", IP_A, RLT_T0 + 60000);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1740);
    /* Failures are counted by address, never by key: alice is fine
     * elsewhere, and so is everybody else. */
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_B, RLT_T0).allowed, 1);
    d = rlt_check(a, "good:alice", IP_A, RLT_T0 + 30 * MIN_MS - 1);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1);
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0 + 30 * MIN_MS).allowed, 1);
    /* After the lockout the count starts again from zero. */
    bad_keys(a, IP_A, 2, RLT_T0 + 31 * MIN_MS);
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0 + 31 * MIN_MS).allowed, 1);
    rlt_close(a);
}

/* Only bad_credentials counts: missing keys and other denials do not. */
static void test_only_bad_credentials_count(void)
{
    mcpauth *a = open_ok(LOCKOUT_3);
    for (int i = 0; i < 10; i++) {
        mcpauth_decision d = rlt_check(a, NULL, IP_A, RLT_T0);
        assert_denied(&d, MCPAUTH_REASON_NO_CREDENTIALS, NULL, 0);
    }
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
    rlt_close(a);
}

/* The window runs from the first failure; failures older than it are
 * forgotten. */
static void test_failure_window(void)
{
    mcpauth *a = open_ok(LOCKOUT_3);
    bad_keys(a, IP_A, 2, RLT_T0);
    bad_keys(a, IP_A, 1, RLT_T0 + 15 * MIN_MS); /* a new window */
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0 + 15 * MIN_MS).allowed, 1);
    bad_keys(a, IP_A, 2, RLT_T0 + 29 * MIN_MS);
    mcpauth_decision d = rlt_check(a, "good:alice", IP_A, RLT_T0 + 29 * MIN_MS);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1800);
    rlt_close(a);
}

/* A success between guesses does not wipe the count: one valid key must
 * not buy an attacker unlimited guesses. */
static void test_success_does_not_reset(void)
{
    mcpauth *a = open_ok(LOCKOUT_3);
    bad_keys(a, IP_A, 2, RLT_T0);
    CU_ASSERT_EQUAL(rlt_check(a, "good:mallory", IP_A, RLT_T0 + 1).allowed, 1);
    bad_keys(a, IP_A, 1, RLT_T0 + 2);
    mcpauth_decision d = rlt_check(a, "good:mallory", IP_A, RLT_T0 + 3);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1800);
    rlt_close(a);
}

/* Dry runs are not observed: bad keys in a dry run count nothing. */
static void test_dry_run_counts_no_failure(void)
{
    mcpauth *a = open_ok(LOCKOUT_3);
    for (int i = 0; i < 10; i++) {
        mcpauth_decision d = rlt_dry(a, "wrong-key", IP_A, RLT_T0);
        CU_ASSERT_EQUAL(d.allowed, 0);
    }
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice", IP_A, RLT_T0).allowed, 1);
    /* ... but a dry run does see a lockout. */
    bad_keys(a, IP_A, 3, RLT_T0);
    mcpauth_decision d = rlt_dry(a, "good:alice", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1800);
    rlt_close(a);
}

/* Defaults: 5 failures in 15 minutes lock out for 30 minutes. Here with
 * the script plugin as the (only) authenticator, denying every request. */
static void test_lockout_defaults_with_script(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    control: requisite\n"
        "    config: { requests_per_minute: 1000 }\n"
        "  - plugin: @SCRIPT@\n"
        "    control: required\n"
        "    config: { vote: deny, reason: bad_credentials }\n");
    bad_keys(a, IP_A, 4, RLT_T0);
    bad_keys(a, IP_A, 1, RLT_T0 + 15 * MIN_MS - 1);
    mcpauth_decision d = rlt_check(a, "anything", IP_A, RLT_T0 + 15 * MIN_MS - 1);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1800);
    d = rlt_check(a, "anything", IP_A, RLT_T0 + 45 * MIN_MS - 1);
    assert_denied(&d, MCPAUTH_REASON_BAD_CREDENTIALS, NULL, 0);
    rlt_close(a);
}

/* ---- memory bound ---- */

/* A flood of addresses beyond max_tracked evicts counters (an exhausted
 * one comes back with a fresh budget) but never an active lockout. */
static void test_flood_keeps_lockout(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: ratelimit\n"
        "    control: requisite\n"
        "    config: { requests_per_minute: 60, burst: 3, by: ip,\n"
        "              max_failed_attempts: 2, max_tracked: 300 }\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n");
    bad_keys(a, IP_A, 2, RLT_T0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_B, RLT_T0).allowed, 1);
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_B, RLT_T0).allowed, 0);
    char ip[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255,
                 i & 255);
        CU_ASSERT_EQUAL_FATAL(rlt_check(a, "anon", ip, RLT_T0).allowed, 1);
    }
    mcpauth_decision d = rlt_check(a, "good:alice", IP_A, RLT_T0);
    assert_denied(&d, MCPAUTH_REASON_LOCKED_OUT, "ratelimit", 1800);
    /* B's exhausted counter was the idlest entry: it went. */
    CU_ASSERT_EQUAL(rlt_check(a, "anon", IP_B, RLT_T0).allowed, 1);
    rlt_close(a);
}

/* ---- configuration ---- */

/* A bad setting fails the load with a message naming it. */
static void expect_config_error(const char *config, const char *needle)
{
    char *yaml = tu_fmt("version: 1\n"
                        "stack:\n"
                        "  - plugin: ratelimit\n"
                        "    control: required\n"
                        "    config: %s\n",
                        config);
    mcpauth_error err;
    memset(&err, 0, sizeof(err));
    mcpauth *a = rlt_open(yaml, &err);
    CU_ASSERT_PTR_NULL(a);
    if (a)
        rlt_close(a);
    if (!strstr(err.message, needle))
        fprintf(stderr, "\n  config %s: message '%s' lacks '%s'\n", config,
                err.message, needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle));
    free(yaml);
}

static void test_config_errors(void)
{
    expect_config_error("{ requests_per_minute: 0 }", "requests_per_minute");
    expect_config_error("{ requests_per_minute: -5 }", "requests_per_minute");
    expect_config_error("{ requests_per_minute: lots }", "requests_per_minute");
    expect_config_error("{ requests_per_minute: 2000000 }", "requests_per_minute");
    expect_config_error("{ requests_per_minute: 10, burst: 0 }", "burst");
    expect_config_error("{ burst: 10 }", "burst");
    expect_config_error("{ requests_per_minute: 10, by: key }", "by");
    expect_config_error("{ by: ip }", "by");
    expect_config_error("{ per_role: [admin] }", "per_role");
    expect_config_error("{ per_role: { admin: 0 } }", "admin");
    expect_config_error("{ per_role: { admin: { burst: 3 } } }", "burst");
    expect_config_error("{ per_role: { admin: { requests_per_minute: 5, "
                        "rate: 3 } } }", "rate");
    expect_config_error("{ max_failed_attempts: -1 }", "max_failed_attempts");
    expect_config_error("{ max_failed_attempts: 0 }", "limits nothing");
    expect_config_error("{ failure_window: 0s }", "failure_window");
    expect_config_error("{ failure_window: soon }", "failure_window");
    expect_config_error("{ lockout: 20y }", "lockout");
    expect_config_error("{ max_tracked: 0 }", "max_tracked");
    expect_config_error("{ requests_per_minute: 10, colour: red }", "colour");
}

/* Every setting at once loads. */
static void test_config_full(void)
{
    mcpauth *a = open_ok(
        "version: 1\n"
        "stack:\n"
        "  - plugin: @FAKEAUTH@\n"
        "    control: required\n"
        "  - plugin: ratelimit\n"
        "    control: required\n"
        "    config:\n"
        "      requests_per_minute: 600\n"
        "      burst: 50\n"
        "      by: auto\n"
        "      per_role: { admin: 6000, device: { requests_per_minute: 10, burst: 2 } }\n"
        "      max_failed_attempts: 5\n"
        "      failure_window: 15m\n"
        "      lockout: 30m\n"
        "      max_tracked: 100000\n");
    CU_ASSERT_EQUAL(rlt_check(a, "good:alice:admin", IP_A, RLT_T0).allowed, 1);
    rlt_close(a);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ratelimit", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "burst example (60/min, burst 5)", test_burst_example);
    CU_add_test(s, "retry_after is exact, rounded up", test_retry_after_exact);
    CU_add_test(s, "burst defaults to the rate", test_default_burst);
    CU_add_test(s, "rate not dividing a minute", test_rate_not_dividing_a_minute);
    CU_add_test(s, "sustained rate", test_sustained_rate);
    CU_add_test(s, "absurd time fails closed", test_absurd_time_fails_closed);
    CU_add_test(s, "per_role", test_per_role);
    CU_add_test(s, "per_role without a default rate", test_per_role_only);
    CU_add_test(s, "by principal", test_by_principal);
    CU_add_test(s, "by ip", test_by_ip);
    CU_add_test(s, "by auto", test_by_auto);
    CU_add_test(s, "two entries are independent", test_two_entries_independent);
    CU_add_test(s, "dry run consumes nothing", test_dry_run_consumes_nothing);
    CU_add_test(s, "lockout", test_lockout);
    CU_add_test(s, "only bad_credentials counts", test_only_bad_credentials_count);
    CU_add_test(s, "failure window", test_failure_window);
    CU_add_test(s, "success does not reset", test_success_does_not_reset);
    CU_add_test(s, "dry run counts no failure", test_dry_run_counts_no_failure);
    CU_add_test(s, "lockout defaults (script plugin)", test_lockout_defaults_with_script);
    CU_add_test(s, "flood keeps the lockout", test_flood_keeps_lockout);
    CU_add_test(s, "config errors", test_config_errors);
    CU_add_test(s, "config with every key", test_config_full);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
