/* test_role.c: the role plugin through the public API. Each test writes a
 * policy whose first entry is the core's scripted test plugin (it sets the
 * principal an authenticating plugin would) and whose second is `role`. */
#include <pthread.h>
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

static char *script_so(void)
{
    const char *d = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    return tu_fmt("%s/mcpauth_script.so", d ? d : "build/tests/plugins");
}

/* A stack of [script (sets `principal`, a YAML flow map, or none when NULL),
 * role with `config` (a YAML flow map)]. Returns NULL and fills err when the
 * policy does not load. */
static mcpauth *open_stack(const char *principal, const char *config,
                           mcpauth_error *err)
{
    char *so = script_so();
    char *pline = principal ? tu_fmt("      principal: %s\n", principal)
                            : tu_fmt("%s", "");
    char *yaml = tu_fmt("version: 1\n"
                        "stack:\n"
                        "  - plugin: %s\n"
                        "    name: auth\n"
                        "    control: optional\n"
                        "    config:\n"
                        "      vote: abstain\n"
                        "%s"
                        "  - plugin: role\n"
                        "    control: required\n"
                        "    config: %s\n",
                        so, pline, config ? config : "{}");
    char *path = tu_write(tmpdir, "policy.yaml", yaml);
    mcpauth *a = NULL;
    mcpauth_error local;
    if (mcpauth_open(&a, path, err ? err : &local) != MCPAUTH_OK)
        a = NULL;
    if (!a && !err)
        fprintf(stderr, "policy did not load: %s\n%s", local.message, yaml);
    free(so);
    free(pline);
    free(yaml);
    free(path);
    return a;
}

typedef struct result {
    int allowed;
    mcpauth_reason reason;
    int http_status;
    char detail[MCPAUTH_MESSAGE_MAX]; /* the role entry's trace detail */
} result;

static result check(mcpauth *a, const char *method, const char *tool,
                    const char *resource, uint64_t bytes)
{
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    req.client_ip = "192.0.2.1";
    req.method = method;
    req.tool = tool;
    req.resource = resource;
    req.bytes = bytes;
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
        if (strcmp(trace[i].name, "role") == 0)
            memcpy(r.detail, trace[i].detail, sizeof(r.detail));
    return r;
}

static int allowed(mcpauth *a, const char *method, const char *tool)
{
    return check(a, method, tool, method && !strcmp(method, "resources/read")
                                      ? "file:///var/log/app.log" : NULL, 10)
        .allowed;
}

/* ---- the predefined roles against every MCP method and a set of tools ---- */

static const char *const methods[] = {
    "initialize", "ping", "tools/list", "tools/call", "resources/list",
    "resources/templates/list", "resources/read", "prompts/list",
    "prompts/get", "logging/setLevel", "completion/complete",
    "admin/anything",
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const char *const tools[] = {
    "get_temperature", "list_devices", "device_status", "report_reading",
    "set_light", "delete_everything",
};
#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

typedef struct role_case {
    const char *role;
    const char *methods; /* one '1'/'0' per entry of methods[] */
    const char *tools;   /* one '1'/'0' per entry of tools[], for tools/call */
} role_case;

static const role_case predefined[] = {
    /*                 methods          tools  */
    { "admin",    "111111111111", "111111" },
    { "operator", "111111111010", "111111" },
    { "monitor",  "111111111000", "111000" },
    { "device",   "111100000000", "000100" },
};

static void check_role_table(const role_case *c, mcpauth *a)
{
    for (size_t m = 0; m < NMETHODS; m++) {
        if (!strcmp(methods[m], "tools/call"))
            continue;
        int got = allowed(a, methods[m], NULL);
        if (got != (c->methods[m] == '1'))
            fprintf(stderr, "%s %s: got %d\n", c->role, methods[m], got);
        CU_ASSERT_EQUAL(got, c->methods[m] == '1');
    }
    for (size_t t = 0; t < NTOOLS; t++) {
        result r = check(a, "tools/call", tools[t], NULL, 10);
        if (r.allowed != (c->tools[t] == '1'))
            fprintf(stderr, "%s tools/call %s: got %d\n", c->role, tools[t],
                    r.allowed);
        CU_ASSERT_EQUAL(r.allowed, c->tools[t] == '1');
        if (!r.allowed) {
            CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_FORBIDDEN);
            CU_ASSERT_EQUAL(r.http_status, 403);
        }
    }
}

static void test_predefined_roles(void)
{
    for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++) {
        char *p = tu_fmt("{ key_id: k1, role: %s }", predefined[i].role);
        mcpauth *a = open_stack(p, NULL, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        check_role_table(&predefined[i], a);
        mcpauth_close(a);
        free(p);
    }
}

static void test_denial_detail_names_target(void)
{
    mcpauth *a = open_stack("{ role: monitor }", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    result r = check(a, "tools/call", "set_light", NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "monitor"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "set_light"));
    r = check(a, "logging/setLevel", NULL, NULL, 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "logging/setLevel"));
    /* tools/call names no tool: nothing to authorize, so deny. */
    r = check(a, "tools/call", NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_FORBIDDEN);
    r = check(a, "resources/read", NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    r = check(a, NULL, NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    mcpauth_close(a);
}

static void test_read_only_and_device_tools(void)
{
    mcpauth *a = open_stack("{ role: monitor }",
                            "{ read_only_tools: [peek_*, show], "
                            "device_tools: [push_*] }", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "tools/call", "peek_inside"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "show"));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "get_temperature"));
    mcpauth_close(a);
    a = open_stack("{ role: device }", "{ device_tools: [push_*] }", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "tools/call", "push_reading"));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "report_reading"));
    mcpauth_close(a);
}

/* ---- principals the role plugin cannot place ---- */

static void test_no_principal(void)
{
    mcpauth *a = open_stack(NULL, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    result r = check(a, "ping", NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_NO_CREDENTIALS);
    CU_ASSERT_EQUAL(r.http_status, 401);
    mcpauth_close(a);
}

static void test_no_role(void)
{
    mcpauth *a = open_stack("{ key_id: k9 }", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    result r = check(a, "ping", NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "no role"));
    mcpauth_close(a);
}

static void test_undefined_role(void)
{
    mcpauth *a = open_stack("{ role: ghost }", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    result r = check(a, "ping", NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "'ghost'"));
    mcpauth_close(a);
}

/* ---- custom roles ---- */

static const char custom[] =
    "{ roles: {"
    " base: { methods: [ping, tools/call], tools: [get_*] },"
    " child: { inherits: [base], tools: [set_light] },"
    " grandchild: { inherits: [child], methods: [tools/list] },"
    " both: { inherits: [monitor, device] },"
    " cautious: { tools: ['*'], methods: ['*'], deny_tools: [delete_*],"
    "             deny_methods: [admin/*] },"
    " cautious_kid: { inherits: [cautious], tools: [delete_logs],"
    "                 methods: [admin/keys] },"
    " ops_plus: { inherits: [operator], methods: [admin/*] },"
    " reader: { methods: [resources/*], resources: ['file:///public/*'],"
    "           deny_resources: ['file:///public/secret*'] }"
    "} }";

static void test_inheritance(void)
{
    mcpauth *a = open_stack("{ role: grandchild }", custom, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "ping", NULL));
    CU_ASSERT_TRUE(allowed(a, "tools/list", NULL));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "get_x"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "set_light"));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "set_heat"));
    CU_ASSERT_FALSE(allowed(a, "initialize", NULL));
    mcpauth_close(a);
    a = open_stack("{ role: child }", custom, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(allowed(a, "tools/list", NULL)); /* only grandchild's */
    CU_ASSERT_TRUE(allowed(a, "tools/call", "get_x"));
    mcpauth_close(a);
    a = open_stack("{ role: both }", custom, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "tools/call", "get_temperature"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "report_reading"));
    CU_ASSERT_TRUE(allowed(a, "prompts/get", NULL));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "set_light"));
    mcpauth_close(a);
}

static void test_deny_wins(void)
{
    mcpauth *a = open_stack("{ role: cautious_kid }", custom, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "tools/call", "set_light"));
    /* Its own allow does not beat the inherited deny. */
    CU_ASSERT_FALSE(allowed(a, "tools/call", "delete_logs"));
    CU_ASSERT_FALSE(allowed(a, "admin/keys", NULL));
    mcpauth_close(a);
    a = open_stack("{ role: ops_plus }", custom, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(allowed(a, "admin/keys", NULL));
    CU_ASSERT_FALSE(allowed(a, "logging/setLevel", NULL));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "anything"));
    mcpauth_close(a);
}

static void test_resources(void)
{
    mcpauth *a = open_stack("{ role: reader }", custom, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(check(a, "resources/read", NULL, "file:///public/a.txt", 1)
                       .allowed);
    CU_ASSERT_FALSE(check(a, "resources/read", NULL, "file:///etc/passwd", 1)
                        .allowed);
    result r = check(a, "resources/read", NULL, "file:///public/secret.key", 1);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "file:///public/secret.key"));
    /* Only resources/read names a resource; listing is a method question. */
    CU_ASSERT_TRUE(allowed(a, "resources/list", NULL));
    CU_ASSERT_FALSE(allowed(a, "tools/list", NULL));
    mcpauth_close(a);
}

static void test_override_predefined(void)
{
    mcpauth *a = open_stack("{ role: monitor }",
                            "{ roles: { monitor: { methods: [ping] } } }", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "ping", NULL));
    CU_ASSERT_FALSE(allowed(a, "tools/list", NULL));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "get_temperature"));
    mcpauth_close(a);
}

/* ---- a key's own tool patterns ---- */

static void test_key_tools_narrow(void)
{
    mcpauth *a = open_stack("{ role: admin, allowed_tools: [get_temp*, "
                            "list_devices] }", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "tools/call", "get_temperature"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "list_devices"));
    result r = check(a, "tools/call", "set_light", NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "key"));
    /* Methods are the role's business alone. */
    CU_ASSERT_TRUE(allowed(a, "admin/anything", NULL));
    mcpauth_close(a);
}

static void test_key_tools_never_widen(void)
{
    mcpauth *a = open_stack("{ role: monitor, allowed_tools: [set_light, "
                            "get_temperature] }", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(allowed(a, "tools/call", "set_light"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "get_temperature"));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "list_devices"));
    mcpauth_close(a);
}

/* ---- key types and request size ---- */

static const char limited[] =
    "{ roles: {"
    " live_only: { methods: [ping], key_types: [live] },"
    " live_kid: { inherits: [live_only] },"
    " any_type: { methods: [ping], key_types: [live, test] },"
    " small: { inherits: [device], max_request_bytes: 1024 },"
    " smaller: { inherits: [small], max_request_bytes: 4096 }"
    "} }";

static void test_key_types(void)
{
    mcpauth *a = open_stack("{ role: live_only, key_type: test }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    result r = check(a, "ping", NULL, NULL, 10);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "test"));
    mcpauth_close(a);
    a = open_stack("{ role: live_kid, key_type: test }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_FALSE(allowed(a, "ping", NULL)); /* inherited restriction */
    mcpauth_close(a);
    a = open_stack("{ role: live_only, key_type: live }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "ping", NULL));
    mcpauth_close(a);
    a = open_stack("{ role: any_type, key_type: test }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "ping", NULL));
    mcpauth_close(a);
}

static void test_max_request_bytes(void)
{
    mcpauth *a = open_stack("{ role: small }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(check(a, "ping", NULL, NULL, 1024).allowed);
    result r = check(a, "ping", NULL, NULL, 1025);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.reason, MCPAUTH_REASON_TOO_LARGE);
    CU_ASSERT_EQUAL(r.http_status, 413);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "small"));
    mcpauth_close(a);
    /* A child cannot raise its parent's limit. */
    a = open_stack("{ role: smaller }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(check(a, "ping", NULL, NULL, 2048).reason,
                    MCPAUTH_REASON_TOO_LARGE);
    mcpauth_close(a);
    /* Roles without a limit leave size to the core. */
    a = open_stack("{ role: admin }", limited, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(check(a, "ping", NULL, NULL, 100u << 20).allowed);
    mcpauth_close(a);
}

/* ---- many roles and patterns ---- */

static void test_many_roles(void)
{
    enum { NROLES = 300, NPATS = 20 };
    size_t cap = 1 << 20, len = 0;
    char *cfg = malloc(cap);
    len += (size_t)snprintf(cfg + len, cap - len, "{ roles: {");
    for (int r = 0; r < NROLES; r++) {
        char inherits[32] = "";
        if (r)
            snprintf(inherits, sizeof(inherits), "inherits: [r%03d],", r - 1);
        len += (size_t)snprintf(cfg + len, cap - len,
                                " r%03d: { methods: [tools/call], %s tools: [",
                                r, inherits);
        for (int p = 0; p < NPATS; p++)
            len += (size_t)snprintf(cfg + len, cap - len, "%st%03d_%02d",
                                    p ? ", " : "", r, p);
        len += (size_t)snprintf(cfg + len, cap - len, ", g%03d_*] },", r);
    }
    snprintf(cfg + len, cap - len, " } }");
    mcpauth *a = open_stack("{ role: r299 }", cfg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    /* r299 inherits the whole chain. */
    CU_ASSERT_TRUE(allowed(a, "tools/call", "t000_00"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "t150_19"));
    CU_ASSERT_TRUE(allowed(a, "tools/call", "g007_anything"));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "t300_00"));
    CU_ASSERT_FALSE(allowed(a, "tools/list", NULL));
    mcpauth_close(a);
    a = open_stack("{ role: r000 }", cfg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(allowed(a, "tools/call", "t000_19"));
    CU_ASSERT_FALSE(allowed(a, "tools/call", "t001_00"));
    mcpauth_close(a);
    free(cfg);
}

/* ---- concurrent votes share one read-only table ---- */

typedef struct worker {
    mcpauth *a;
    int wrong;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 500; i++) {
        const char *tool = tools[i % NTOOLS];
        result r = check(w->a, "tools/call", tool, NULL, 10);
        int want = !strncmp(tool, "get_", 4) || !strncmp(tool, "list_", 5) ||
                   strstr(tool, "_status") != NULL;
        if (r.allowed != want || (!want && !strstr(r.detail, tool)))
            w->wrong++;
    }
    return NULL;
}

static void test_concurrent(void)
{
    mcpauth *a = open_stack("{ role: monitor }", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].a = a;
        w[i].wrong = 0;
        CU_ASSERT_EQUAL(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(w[i].wrong, 0);
    }
    mcpauth_close(a);
}

/* ---- config errors name file:line:col ---- */

/* A policy with this plugin's config `config` must fail to load with
 * "bad.yaml:<where>" and `what` in the message. */
static void expect_error(const char *config, const char *where, const char *what)
{
    tu_expect_config_error(tmpdir, "role", config, where, what);
}

static void test_config_errors(void)
{
    expect_error("      roles:\n"
                 "        a:\n"
                 "          inherits: [b]\n"
                 "        b:\n"
                 "          inherits: [c]\n"
                 "        c:\n"
                 "          inherits: [a]\n",
                 "", "inheritance cycle");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          inherits: [a]\n",
                 "8:22:", "inheritance cycle: a -> a");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          methods: [ping]\n"
                 "          inherits: [monitor, nobody]\n",
                 "9:31:", "'nobody'");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          tools: [ok_*, \"\"]\n",
                 "8:25:", "bad pattern");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          key_types: [live, prod]\n",
                 "8:29:", "unknown key type 'prod'");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          max_request_bytes: 0\n",
                 "8:30:", "max_request_bytes");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          methods: [ping]\n"
                 "          tool: [x]\n",
                 "9:", "tool");
    expect_error("      roles: [admin]\n", "6:14:", "roles");
    expect_error("      roles:\n"
                 "        a: ping\n", "7:12:", "must be a map");
    expect_error("      read_only_tools: [\"\"]\n", "6:25:", "bad pattern");
    expect_error("      roles:\n"
                 "        a:\n"
                 "          tools: { x: y }\n",
                 "8:", "list of strings");
}

/* The cycle error points at the `inherits` item that closes the cycle. */
static void test_cycle_location(void)
{
    expect_error("      roles:\n"
                 "        a:\n"
                 "          inherits: [b]\n"
                 "        b:\n"
                 "          inherits:\n"
                 "            - monitor\n"
                 "            - a\n",
                 "12:15:", "a -> b -> a");
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("role", suite_init, suite_clean);
    if (!s)
        return -1;
    CU_add_test(s, "predefined roles x methods x tools", test_predefined_roles);
    CU_add_test(s, "denial detail names the target", test_denial_detail_names_target);
    CU_add_test(s, "read_only_tools and device_tools", test_read_only_and_device_tools);
    CU_add_test(s, "no principal", test_no_principal);
    CU_add_test(s, "principal without a role", test_no_role);
    CU_add_test(s, "undefined role", test_undefined_role);
    CU_add_test(s, "inheritance", test_inheritance);
    CU_add_test(s, "deny wins", test_deny_wins);
    CU_add_test(s, "resources", test_resources);
    CU_add_test(s, "override a predefined role", test_override_predefined);
    CU_add_test(s, "key tool patterns narrow", test_key_tools_narrow);
    CU_add_test(s, "key tool patterns never widen", test_key_tools_never_widen);
    CU_add_test(s, "key types", test_key_types);
    CU_add_test(s, "per-role max_request_bytes", test_max_request_bytes);
    CU_add_test(s, "300 roles", test_many_roles);
    CU_add_test(s, "concurrent votes", test_concurrent);
    CU_add_test(s, "config errors", test_config_errors);
    CU_add_test(s, "cycle location", test_cycle_location);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
