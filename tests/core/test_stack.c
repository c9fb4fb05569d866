/* test_stack.c: the control-flag table. Each row is a stack of scripted
 * votes and the outcome Linux-PAM's pam_dispatch.c semantics give it; then
 * every small stack, against a reference written from docs/policy.md. */
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
    /* mcpauth's deliberate departure from Linux-PAM, where optional is
     * [success=ok default=ignore] and this stack would allow: among optional
     * votes a deny wins, so an optional failure is never ignored to let a
     * request in (fail closed; docs/policy.md, "Control flags"). */
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

/* ---- every stack of one to three entries ---- */

enum { V_ALLOW, V_DENY, V_ABSTAIN, V_ERROR };
static const char *const ex_flags[] = { "required", "requisite", "sufficient", "optional" };
static const char *const ex_votes[] = { "allow", "deny", "abstain", "error" };
/* Each position denies with a reason of its own, so the test sees whose
 * failure is reported. */
static const char *const ex_reasons[] = { "bad_credentials", "ip_denied", "expired" };

#define EX_MAX 3

typedef struct ref_outcome {
    int allowed;
    const char *reason;
    int decider; /* 0-based entry, -1 for none */
    int ran;     /* entries that voted before the stack stopped */
} ref_outcome;

/* What a vote under a flag does to the stack, in the terms of Linux-PAM's
 * _pam_dispatch_aux and pam.d(5): required is [success=ok default=bad],
 * requisite [success=ok default=die], sufficient [success=done
 * default=ignore]; an abstain is PAM_IGNORE. optional is where mcpauth
 * departs from PAM (docs/policy.md): its votes are set aside, to decide
 * only when nothing else did, and then a deny among them wins. */
typedef enum { ACT_OK, ACT_DONE, ACT_BAD, ACT_DIE, ACT_IGNORE, ACT_ASIDE } ref_action;

static ref_action ref_action_of(int flag, int vote)
{
    if (vote == V_ABSTAIN)
        return ACT_IGNORE;
    if (flag == 3)
        return ACT_ASIDE;
    if (vote == V_ALLOW)
        return flag == 2 ? ACT_DONE : ACT_OK;
    return flag == 0 ? ACT_BAD : flag == 1 ? ACT_DIE : ACT_IGNORE;
}

/* The decision docs/policy.md promises for a stack, worked out on its own:
 * PAM's impression (undefined, positive, negative), then the final rules
 * 1-6 of "Control flags". Shares no code with core/stack.c. */
static ref_outcome ref_decide(const int *flag, const int *vote, int n)
{
    enum { UNDEF, POSITIVE, NEGATIVE } imp = UNDEF;
    int bad_at = -1, good_at = -1, opt_deny = -1, opt_allow = -1, i;
    for (i = 0; i < n; i++) {
        if (vote[i] == V_ERROR) /* rule 1, and the stack stops */
            return (ref_outcome){ 0, "internal_error", i, i + 1 };
        ref_action a = ref_action_of(flag[i], vote[i]);
        if ((a == ACT_OK || a == ACT_DONE) && imp != NEGATIVE) {
            imp = POSITIVE;
            good_at = i;
            if (a == ACT_DONE)
                break;
        } else if ((a == ACT_BAD || a == ACT_DIE) && imp != NEGATIVE) {
            imp = NEGATIVE;
            bad_at = i;
        } else if (a == ACT_ASIDE && vote[i] == V_DENY && opt_deny < 0) {
            opt_deny = i;
        } else if (a == ACT_ASIDE && vote[i] == V_ALLOW && opt_allow < 0) {
            opt_allow = i;
        }
        if (a == ACT_DIE)
            break;
    }
    int ran = i < n ? i + 1 : n;
    if (imp == NEGATIVE)
        return (ref_outcome){ 0, ex_reasons[bad_at], bad_at, ran };
    if (imp == POSITIVE)
        return (ref_outcome){ 1, "ok", good_at, ran };
    if (opt_deny >= 0)
        return (ref_outcome){ 0, ex_reasons[opt_deny], opt_deny, ran };
    if (opt_allow >= 0) /* reported: the first optional entry that allowed */
        return (ref_outcome){ 1, "ok", opt_allow, ran };
    return (ref_outcome){ 0, "forbidden", -1, ran };
}

/* Run one stack through the library; 1 when it decides as the reference. */
static int ex_check(const int *flag, const int *vote, int n)
{
    row r = { "exhaustive", { { 0 } }, 0, NULL, NULL };
    for (int i = 0; i < n; i++)
        r.e[i] = (row_entry){ ex_flags[flag[i]], ex_votes[vote[i]], ex_reasons[i] };
    char *y = row_yaml(&r);
    mcpauth *a = NULL;
    mcpauth_error err;
    if (mcpauth_open_string(&a, y, &err) != MCPAUTH_OK) {
        fprintf(stderr, "\n%s\n", err.message);
        free(y);
        return 0;
    }
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_trace_entry t[EX_MAX];
    size_t nt = 0;
    mcpauth_check_ex(a, &req, 0, &d, t, EX_MAX, &nt);
    /* The untraced loop (every check a server makes) decides the same. */
    mcpauth_decision plain;
    mcpauth_check_ex(a, &req, 0, &plain, NULL, 0, NULL);
    int same = plain.allowed == d.allowed && plain.reason == d.reason &&
               !strcmp(plain.plugin, d.plugin);
    int ran = 0;
    for (size_t i = 0; i < nt; i++)
        ran += t[i].vote != MCPAUTH_TRACE_SKIPPED;
    ref_outcome want = ref_decide(flag, vote, n);
    char label[16] = "";
    if (want.decider >= 0)
        snprintf(label, sizeof(label), "e%d", want.decider + 1);
    int ok = same && d.allowed == want.allowed &&
             !strcmp(mcpauth_reason_name(d.reason), want.reason) &&
             !strcmp(d.plugin, label) && ran == want.ran &&
             d.http_status == mcpauth_reason_http_status(d.reason);
    if (!ok) {
        fprintf(stderr, "\nstack");
        for (int i = 0; i < n; i++)
            fprintf(stderr, " [%s %s]", ex_flags[flag[i]], ex_votes[vote[i]]);
        fprintf(stderr, ": got %s %s by '%s' after %d, expected %s %s by '%s' after %d\n",
                d.allowed ? "allow" : "deny", mcpauth_reason_name(d.reason), d.plugin, ran,
                want.allowed ? "allow" : "deny", want.reason, label, want.ran);
    }
    mcpauth_close(a);
    free(y);
    return ok;
}

/* Every stack of one, two and three entries over the four flags and the
 * votes allow, deny, abstain and error (16 + 256 + 4096 stacks), against
 * ref_decide. Under valgrind, which is there for memory errors and would
 * take a minute over the 4096, stacks of one and two entries only. */
static void test_control_exhaustive(void)
{
    int bad = 0, total = 0, max = getenv("MCPAUTH_UNDER_VALGRIND") ? 2 : EX_MAX;
    for (int n = 1; n <= max; n++) {
        for (int code = 0; code < 1 << (4 * n); code++) {
            int flag[EX_MAX], vote[EX_MAX];
            for (int i = 0; i < n; i++) {
                flag[i] = (code >> (4 * i)) & 3;
                vote[i] = (code >> (4 * i + 2)) & 3;
            }
            bad += !ex_check(flag, vote, n);
            total++;
        }
    }
    if (bad)
        fprintf(stderr, "\n%d of %d stacks decided otherwise than the reference\n", bad, total);
    CU_ASSERT_EQUAL(total, max == EX_MAX ? 16 + 256 + 4096 : 16 + 256);
    CU_ASSERT_EQUAL(bad, 0);
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
           !CU_add_test(s, "every stack of 1 to 3 entries", test_control_exhaustive) ||
           !CU_add_test(s, "reason names and HTTP statuses", test_http_statuses) ||
           !CU_add_test(s, "trace shows votes and skipped entries", test_trace_and_skipped);
}

int main(void) { return tu_main(add); }
