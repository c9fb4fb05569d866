/* test_ipwhitelist.c: the ipwhitelist plugin through the public API. Each
 * test writes a policy of [script (sets a principal, optionally with its
 * own address list), ipwhitelist] and checks requests from addresses. */
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"

static char *tmpdir;

static int suite_init(void)
{
    tmpdir = tu_mkdtemp();
    return tmpdir ? 0 : -1;
}

static int suite_clean(void)
{
    tu_rmtree(tmpdir);
    free(tmpdir);
    return 0;
}

/* principal: YAML flow map for the script plugin, or NULL for none;
 * config: the ipwhitelist entry's config (YAML flow map). */
static mcpauth *open_stack(const char *principal, const char *config)
{
    const char *d = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    char *pline = principal ? tu_fmt("      principal: %s\n", principal)
                            : tu_fmt("%s", "");
    char *yaml = tu_fmt("version: 1\n"
                        "stack:\n"
                        "  - plugin: %s/mcpauth_script.so\n"
                        "    name: auth\n"
                        "    control: optional\n"
                        "    config:\n"
                        "      vote: abstain\n"
                        "%s"
                        "  - plugin: ipwhitelist\n"
                        "    control: required\n"
                        "    config: %s\n",
                        d ? d : "build/tests/plugins", pline, config);
    char *path = tu_write(tmpdir, "policy.yaml", yaml);
    mcpauth *a = NULL;
    mcpauth_error err;
    if (mcpauth_open(&a, path, &err) != MCPAUTH_OK) {
        fprintf(stderr, "policy did not load: %s\n", err.message);
        a = NULL;
    }
    free(pline);
    free(yaml);
    free(path);
    return a;
}

typedef struct result {
    int allowed;
    mcpauth_reason reason;
    int http_status;
    char detail[MCPAUTH_MESSAGE_MAX];
} result;

static result check_ff(mcpauth *a, const char *ip, const char *ff)
{
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    req.client_ip = ip;
    req.forwarded_for = ff;
    req.method = "ping";
    req.now_ms = 1700000000000;
    mcpauth_decision d;
    mcpauth_trace_entry trace[4];
    size_t n = 0;
    result r;
    memset(&r, 0, sizeof(r));
    mcpauth_check_ex(a, &req, 0, &d, trace, 4, &n);
    r.allowed = d.allowed;
    r.reason = d.reason;
    r.http_status = d.http_status;
    for (size_t i = 0; i < n; i++)
        if (strcmp(trace[i].name, "ipwhitelist") == 0)
            memcpy(r.detail, trace[i].detail, sizeof(r.detail));
    return r;
}

static int ok(mcpauth *a, const char *ip)
{
    result r = check_ff(a, ip, NULL);
    if (!r.allowed)
        CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_IP_DENIED);
    return r.allowed;
}

typedef struct ip_case {
    const char *ip;
    int allowed;
} ip_case;

static void run_cases(mcpauth *a, const ip_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = ok(a, c[i].ip);
        if (got != c[i].allowed)
            fprintf(stderr, "%s: got %d\n", c[i].ip ? c[i].ip : "(null)", got);
        CU_ASSERT_EQUAL(got, c[i].allowed);
    }
}

#define RUN(a, cases) run_cases(a, cases, sizeof(cases) / sizeof(cases[0]))

static void test_allow_list(void)
{
    static const ip_case cases[] = {
        { "10.1.2.3", 1 },          { "10.255.255.255", 1 },
        { "11.0.0.0", 0 },          { "9.255.255.255", 0 },
        { "::ffff:10.1.2.3", 1 },   { "::ffff:11.1.2.3", 0 },
        { "2001:db8::5", 1 },       { "2001:db9::", 0 },
        { "192.0.2.7", 1 },         { "192.0.2.8", 0 },
        { "2001:db9::1", 1 },       { "2001:db9::2", 0 },
    };
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: [10.0.0.0/8, 2001:db8::/32, "
                                  "192.0.2.7/32, 2001:db9::1/128] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, cases);
    result r = check_ff(a, "11.0.0.1", NULL);
    CU_ASSERT_EQUAL(r.http_status, 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "11.0.0.1"));
    mcpauth_close(a);
}

static void test_deny_wins(void)
{
    static const ip_case cases[] = {
        { "10.1.2.3", 1 }, { "10.6.6.6", 0 }, { "::ffff:10.6.6.1", 0 },
        { "10.6.7.0", 1 },
    };
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: [10.0.0.0/8], deny: [10.6.6.0/24] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, cases);
    CU_ASSERT_PTR_NOT_NULL(strstr(check_ff(a, "10.6.6.6", NULL).detail,
                                  "deny list"));
    mcpauth_close(a);
}

static void test_no_allow_means_not_denied(void)
{
    static const ip_case cases[] = {
        { "1.2.3.4", 1 }, { "2001:db8::1", 1 }, { "203.0.113.9", 0 },
        { "::ffff:203.0.113.9", 0 }, { "fd00::1", 0 }, { "fe80::1", 1 },
    };
    mcpauth *a = open_stack(NULL, "{ per_key: false, deny: [203.0.113.0/24, 'fd00::/8'] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, cases);
    mcpauth_close(a);
}

static void test_whole_families(void)
{
    static const ip_case v4[] = {
        { "0.0.0.0", 1 }, { "255.255.255.255", 1 }, { "::ffff:1.2.3.4", 1 },
        { "::1", 0 }, { "2001:db8::1", 0 },
    };
    static const ip_case v6[] = {
        { "0.0.0.0", 0 }, { "::ffff:1.2.3.4", 0 }, { "::", 1 }, { "::1", 1 },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
    };
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: [0.0.0.0/0] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, v4);
    mcpauth_close(a);
    a = open_stack(NULL, "{ per_key: false, allow: ['::/0'] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, v6);
    mcpauth_close(a);
}

static void test_mapped_rules(void)
{
    static const ip_case cases[] = {
        { "192.0.2.200", 1 }, { "::ffff:192.0.2.1", 1 }, { "192.0.3.1", 0 },
        { "198.51.100.1", 1 },
    };
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: ['::ffff:192.0.2.0/120', "
                                  "'::ffff:198.51.100.1'] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, cases);
    mcpauth_close(a);
}

static void test_malformed_client(void)
{
    static const ip_case cases[] = {
        { NULL, 0 }, { "", 0 }, { "999.1.1.1", 0 }, { "1.2.3", 0 },
        { "1.2.3.4:80", 0 }, { "[::1]", 0 }, { "fe80::1%eth0", 0 },
        { "localhost", 0 }, { " 1.2.3.4", 0 }, { "1.2.3.4/32", 0 },
        { "0x7f.0.0.1", 0 },
    };
    /* Even an allow-everything list never lets an unparseable one in. */
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: [0.0.0.0/0, '::/0'] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, cases);
    CU_ASSERT_TRUE(ok(a, "1.2.3.4"));
    mcpauth_close(a);
}

static void test_per_key(void)
{
    static const ip_case cases[] = {
        { "192.0.2.9", 1 }, { "::ffff:192.0.2.9", 1 }, { "198.51.100.1", 0 },
        { "2001:db8::77", 1 }, { "2001:db8::78", 0 },
    };
    mcpauth *a = open_stack("{ role: admin, allowed_ips: [192.0.2.0/24, "
                            "'2001:db8::77'] }", "{}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    RUN(a, cases);
    CU_ASSERT_PTR_NOT_NULL(strstr(check_ff(a, "198.51.100.1", NULL).detail,
                                  "key"));
    mcpauth_close(a);
    /* Both the instance's list and the key's must pass. */
    a = open_stack("{ role: admin, allowed_ips: [192.0.2.0/24] }",
                   "{ allow: [192.0.2.0/25] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(ok(a, "192.0.2.1"));
    CU_ASSERT_FALSE(ok(a, "192.0.2.200"));
    mcpauth_close(a);
    /* per_key: false ignores the key's list. */
    a = open_stack("{ role: admin, allowed_ips: [192.0.2.0/24] }",
                   "{ per_key: false }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(ok(a, "198.51.100.1"));
    mcpauth_close(a);
    /* A key without a list, and an empty list, restrict nothing. */
    a = open_stack("{ role: admin, allowed_ips: [] }", "{ per_key: true }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(ok(a, "198.51.100.1"));
    mcpauth_close(a);
    /* A key entry that does not parse matches nothing (fail closed). */
    a = open_stack("{ role: admin, allowed_ips: [not-an-ip] }", "{}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(ok(a, "198.51.100.1"));
    mcpauth_close(a);
}

static void test_trusted_proxies(void)
{
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: [203.0.113.0/24], "
                                  "trusted_proxies: [10.0.0.1, 10.0.0.2, "
                                  "'2001:db8::1'] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    /* Through one proxy. */
    CU_ASSERT_TRUE(check_ff(a, "10.0.0.1", "203.0.113.5").allowed);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "198.51.100.9").allowed);
    CU_ASSERT_TRUE(check_ff(a, "2001:db8::1", "203.0.113.5").allowed);
    CU_ASSERT_TRUE(check_ff(a, "::ffff:10.0.0.1", "203.0.113.5").allowed);
    /* Through two proxies; the left-most entry is whatever the client sent. */
    CU_ASSERT_TRUE(check_ff(a, "10.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.2")
                       .allowed);
    CU_ASSERT_TRUE(check_ff(a, "10.0.0.1", "  203.0.113.5 ,10.0.0.2 ").allowed);
    /* A client that writes an allowed address into its own header gets it
     * put on the left by the proxy, and is judged by its real address. */
    result r = check_ff(a, "10.0.0.1", "203.0.113.5, 198.51.100.9");
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "198.51.100.9"));
    /* Every entry a proxy: the left-most is the client. */
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "10.0.0.2").allowed);
    /* No header from a proxy: the proxy itself is the client. */
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", NULL).allowed);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "  ").allowed);
    mcpauth_close(a);
}

static void test_spoofed_header(void)
{
    mcpauth *a = open_stack(NULL, "{ per_key: false, allow: [203.0.113.0/24], "
                                  "trusted_proxies: [10.0.0.1] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    /* Not from a trusted proxy: the header is ignored. */
    result r = check_ff(a, "198.51.100.9", "203.0.113.5");
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_IP_DENIED);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "198.51.100.9"));
    CU_ASSERT_TRUE(check_ff(a, "203.0.113.7", "198.51.100.9").allowed);
    /* Garbage from a trusted proxy: denied, not skipped. */
    r = check_ff(a, "10.0.0.1", "203.0.113.5, garbage");
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_IP_DENIED);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "203.0.113.5,").allowed);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "203.0.113.5:443").allowed);
    mcpauth_close(a);
    /* Without trusted_proxies nobody's header counts. */
    a = open_stack(NULL, "{ per_key: false, allow: [203.0.113.0/24] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "203.0.113.5").allowed);
    mcpauth_close(a);
}

/* The key's list is checked against the forwarded client, not the proxy. */
static void test_per_key_behind_proxy(void)
{
    mcpauth *a = open_stack("{ role: admin, allowed_ips: [203.0.113.5] }",
                            "{ trusted_proxies: [10.0.0.1] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(check_ff(a, "10.0.0.1", "203.0.113.5").allowed);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", "203.0.113.6").allowed);
    CU_ASSERT_FALSE(check_ff(a, "10.0.0.1", NULL).allowed);
    mcpauth_close(a);
}

/* per_key (the default) with nobody authenticated yet: the key's own list
 * cannot be checked, so the request is denied rather than let through with
 * every key's --ip limit unenforced, and the detail says how to mend the
 * policy. The address lists still apply first. */
static void test_per_key_without_principal(void)
{
    mcpauth *a = open_stack(NULL, "{ allow: [203.0.113.0/24] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    result r = check_ff(a, "203.0.113.5", NULL);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_NO_CREDENTIALS);
    CU_ASSERT_EQUAL(r.http_status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "place this entry after apikey"));
    r = check_ff(a, "198.51.100.1", NULL);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_IP_DENIED);
    mcpauth_close(a);
    /* With a principal (no list of its own), and with per_key: false, allowed. */
    a = open_stack("{ role: admin }", "{ allow: [203.0.113.0/24] }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(check_ff(a, "203.0.113.5", NULL).allowed);
    mcpauth_close(a);
    a = open_stack(NULL, "{ allow: [203.0.113.0/24], per_key: false }");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(check_ff(a, "203.0.113.5", NULL).allowed);
    mcpauth_close(a);
}

static void test_ten_thousand(void)
{
    enum { N = 10000 };
    size_t cap = 64 * N, len = 0;
    char *cfg = malloc(cap);
    len += (size_t)snprintf(cfg + len, cap - len, "{ per_key: false, allow: [");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(cfg + len, cap - len, "%s10.%d.%d.0/24",
                                i ? ", " : "", (i * 2) / 256, (i * 2) % 256);
    len += (size_t)snprintf(cfg + len, cap - len, "], deny: [");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(cfg + len, cap - len, "%s'2001:db8:%x::/48'",
                                i ? ", " : "", i);
    snprintf(cfg + len, cap - len, ", 10.0.0.7] }");
    mcpauth *a = open_stack(NULL, cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    static const ip_case cases[] = {
        { "10.0.0.1", 1 }, { "10.0.0.7", 0 }, { "10.0.1.1", 0 },
        { "10.0.2.255", 1 }, { "10.78.30.4", 1 }, { "10.78.31.4", 0 },
        { "10.78.32.4", 0 }, { "11.0.0.1", 0 },
    };
    RUN(a, cases);
    CU_ASSERT_FALSE(ok(a, "2001:db8:270f::1"));
    mcpauth_close(a);
    free(cfg);
}

/* A policy with this plugin's config `config` must fail to load with
 * "bad.yaml:<where>" and `what` in the message. */
static void expect_error(const char *config, const char *where, const char *what)
{
    tu_expect_config_error(tmpdir, "ipwhitelist", config, where, what);
}

static void test_config_errors(void)
{
    expect_error("      allow:\n"
                 "        - 10.0.0.0/8\n"
                 "        - 10.0.0.1/8\n",
                 "8:11:", "host bits");
    expect_error("      allow: [10.0.0.0/8, 10.0.0.0/33]\n", "6:27:",
                 "prefix length");
    expect_error("      deny: [300.1.1.1]\n", "6:14:", "'300.1.1.1'");
    expect_error("      trusted_proxies: [proxy.local]\n", "6:25:",
                 "not an IPv4 or IPv6 address");
    expect_error("      allow: []\n", "6:14:", "empty");
    expect_error("      per_key: maybe\n", "6:16:", "per_key");
    expect_error("      allow: { a: b }\n", "6:14:", "list of addresses");
    expect_error("      allowed: [1.2.3.4]\n", "6:7:", "allowed");
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ipwhitelist", suite_init, suite_clean);
    if (!s)
        return -1;
    CU_add_test(s, "allow list", test_allow_list);
    CU_add_test(s, "deny wins", test_deny_wins);
    CU_add_test(s, "no allow list: all not denied", test_no_allow_means_not_denied);
    CU_add_test(s, "/0 per family", test_whole_families);
    CU_add_test(s, "mapped rules", test_mapped_rules);
    CU_add_test(s, "malformed client address", test_malformed_client);
    CU_add_test(s, "per-key lists", test_per_key);
    CU_add_test(s, "per_key with nobody authenticated denies",
                test_per_key_without_principal);
    CU_add_test(s, "trusted proxies", test_trusted_proxies);
    CU_add_test(s, "spoofed forwarded_for", test_spoofed_header);
    CU_add_test(s, "per-key behind a proxy", test_per_key_behind_proxy);
    CU_add_test(s, "10,000 entries", test_ten_thousand);
    CU_add_test(s, "config errors", test_config_errors);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
