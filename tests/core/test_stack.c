/* test_stack.c: the control-flag table. Each row is a stack of scripted
 * votes and the outcome Linux-PAM's pam_dispatch.c semantics give it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"

typedef struct row_entry {
    const char *control;  /* NULL ends the list */
    const char *vote;     /* allow | deny | abstain | error */
    const char *reason;   /* for deny */
} row_entry;

typedef struct row {
    const char *what;
    row_entry e[6];
    int allowed;
    const char *reason;
    const char *plugin;   /* deciding label: e1..e6, "" for none */
} row;

static const row rows[] = {
    { "single required allow", { { "required", "allow", 0 } }, 1, "ok", "e1" },
    { "single required deny", { { "required", "deny", "forbidden" } }, 0, "forbidden", "e1" },
    { "empty stack fails closed", { { 0 } }, 0, "forbidden", "" },
    { "all abstain fails closed", { { "required", "abstain", 0 }, { "sufficient", "abstain", 0 } },
      0, "forbidden", "" },
    { "required deny, rest still runs, first reason kept",
      { { "required", "deny", "bad_credentials" }, { "required", "deny", "ip_denied" },
        { "required", "allow", 0 } }, 0, "bad_credentials", "e1" },
    { "requisite deny stops the stack",
      { { "requisite", "deny", "ip_denied" }, { "sufficient", "allow", 0 } }, 0, "ip_denied", "e1" },
    { "required deny then requisite deny keeps the first reason",
      { { "required", "deny", "expired" }, { "requisite", "deny", "ip_denied" },
        { "required", "allow", 0 } }, 0, "expired", "e1" },
    { "sufficient allow ends the stack",
      { { "sufficient", "allow", 0 }, { "required", "deny", "forbidden" } }, 1, "ok", "e1" },
    { "sufficient allow after a required allow",
      { { "required", "allow", 0 }, { "sufficient", "allow", 0 }, { "required", "deny", "forbidden" } },
      1, "ok", "e2" },
    { "sufficient allow does not override an earlier required deny",
      { { "required", "deny", "revoked" }, { "sufficient", "allow", 0 } }, 0, "revoked", "e1" },
    { "sufficient deny is ignored",
      { { "sufficient", "deny", "forbidden" }, { "required", "allow", 0 } }, 1, "ok", "e2" },
    { "sufficient deny alone fails closed", { { "sufficient", "deny", "forbidden" } },
      0, "forbidden", "" },
    { "optional deny ignored when a required entry decided",
      { { "required", "allow", 0 }, { "optional", "deny", "rate_limited" } }, 1, "ok", "e1" },
    { "optional allow ignored when a required entry denied",
      { { "optional", "allow", 0 }, { "required", "deny", "forbidden" } }, 0, "forbidden", "e2" },
    { "optional alone decides allow", { { "optional", "allow", 0 } }, 1, "ok", "e1" },
    { "optional alone decides deny", { { "optional", "deny", "ip_denied" } }, 0, "ip_denied", "e1" },
    { "optional deny beats optional allow when nothing else decided",
      { { "optional", "allow", 0 }, { "optional", "deny", "forbidden" }, { "required", "abstain", 0 } },
      0, "forbidden", "e2" },
    { "error in an optional entry still denies",
      { { "required", "allow", 0 }, { "optional", "error", 0 } }, 0, "internal_error", "e2" },
    { "error in a sufficient entry denies and stops",
      { { "sufficient", "error", 0 }, { "sufficient", "allow", 0 } }, 0, "internal_error", "e1" },
    { "error after a sufficient allow is never reached",
      { { "sufficient", "allow", 0 }, { "required", "error", 0 } }, 1, "ok", "e1" },
    { "required abstain does not count",
      { { "required", "abstain", 0 }, { "required", "allow", 0 } }, 1, "ok", "e2" },
    { "requisite allow then required deny",
      { { "requisite", "allow", 0 }, { "required", "deny", "too_large" } }, 0, "too_large", "e2" },
    { "deny with reason ok is treated as forbidden",
      { { "required", "deny", "ok" } }, 0, "forbidden", "e1" },
    { "last counting allow decides",
      { { "requisite", "allow", 0 }, { "required", "allow", 0 }, { "optional", "deny", "forbidden" } },
      1, "ok", "e2" },
};

static char *row_yaml(const row *r)
{
    const char *dir = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    size_t cap = 4096, len = 0;
    char *y = malloc(cap);
    len += (size_t)snprintf(y + len, cap - len, "version: 1\nstack:%s\n", r->e[0].control ? "" : " []");
    for (int i = 0; i < 6 && r->e[i].control; i++)
        len += (size_t)snprintf(y + len, cap - len,
                                "  - plugin: %s/mcpauth_script.so\n    control: %s\n"
                                "    name: e%d\n    config: { vote: %s, reason: %s }\n",
                                dir, r->e[i].control, i + 1, r->e[i].vote,
                                r->e[i].reason ? r->e[i].reason : "forbidden");
    return y;
}

static void test_control_table(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        char *y = row_yaml(r);
        mcpauth *a = NULL;
        mcpauth_error err;
        CU_ASSERT_EQUAL_FATAL(mcpauth_open_string(&a, y, &err), MCPAUTH_OK);
        mcpauth_request req = MCPAUTH_REQUEST_INIT;
        mcpauth_decision d;
        mcpauth_check(a, &req, &d);
        int ok = d.allowed == r->allowed && !strcmp(mcpauth_reason_name(d.reason), r->reason) &&
                 !strcmp(d.plugin, r->plugin) &&
                 d.http_status == mcpauth_reason_http_status(d.reason);
        if (!ok)
            fprintf(stderr, "\nrow '%s': got %s %s by '%s'\n", r->what,
                    d.allowed ? "allow" : "deny", mcpauth_reason_name(d.reason), d.plugin);
        CU_ASSERT_TRUE(ok);
        mcpauth_close(a);
        free(y);
    }
}

static void test_http_statuses(void)
{
    static const int want[] = { 200, 401, 401, 401, 401, 403, 403, 429, 429, 413, 500 };
    for (int r = 0; r < MCPAUTH_REASON_COUNT; r++) {
        CU_ASSERT_EQUAL(mcpauth_reason_http_status((mcpauth_reason)r), want[r]);
        mcpauth_reason back;
        CU_ASSERT_EQUAL(mcpauth_reason_from_name(mcpauth_reason_name((mcpauth_reason)r), &back), 0);
        CU_ASSERT_EQUAL(back, r);
    }
}

static void test_trace_and_skipped(void)
{
    row r = { "trace", { { "requisite", "deny", "ip_denied" }, { "required", "allow", 0 } },
              0, "ip_denied", "e1" };
    char *y = row_yaml(&r);
    mcpauth *a = NULL;
    mcpauth_error err;
    CU_ASSERT_EQUAL_FATAL(mcpauth_open_string(&a, y, &err), MCPAUTH_OK);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_trace_entry t[4];
    size_t nt = 0;
    mcpauth_check_ex(a, &req, 0, &d, t, 4, &nt);
    CU_ASSERT_EQUAL(nt, 2);
    CU_ASSERT_STRING_EQUAL(t[0].name, "e1");
    CU_ASSERT_EQUAL(t[0].control, MCPAUTH_CONTROL_REQUISITE);
    CU_ASSERT_EQUAL(t[0].vote, MCPAUTH_TRACE_DENY);
    CU_ASSERT_EQUAL(t[0].reason, MCPAUTH_REASON_IP_DENIED);
    CU_ASSERT_EQUAL(t[1].vote, MCPAUTH_TRACE_SKIPPED);
    mcpauth_close(a);
    free(y);
}

static int add(void)
{
    CU_pSuite s = CU_add_suite("stack", NULL, NULL);
    return !s || !CU_add_test(s, "control flag table", test_control_table) ||
           !CU_add_test(s, "reason names and HTTP statuses", test_http_statuses) ||
           !CU_add_test(s, "trace shows votes and skipped entries", test_trace_and_skipped);
}

int main(void) { return tu_main(add); }
