/* fuzz_requests.c: `mcpauth check --requests` input. cli/cmd_check.c is
 * compiled into this target (its functions are static), and the input is
 * run through run_requests() exactly as the CLI does: line splitting,
 * JSON parsing, the field rules of req_fields(), and a check on a policy
 * whose one entry allows. Decisions go to /dev/null; errors must give the
 * usage exit code. */
#include "fuzz_common.h"

#include "../../cli/cmd_check.c"

void cli_err(const char *fmt, ...)
{
    (void)fmt; /* the CLI prints these; the fuzzer only needs them to happen */
}

void cli_log(void *arg, int level, const char *message)
{
    (void)arg, (void)level, (void)message; /* as cli_err */
}

static mcpauth *policy;
static char reqs[128];

static void fz_init(void)
{
    char path[128];
    mcpauth_error err;
    snprintf(path, sizeof(path), "%s/policy.yaml", fz_dir());
    snprintf(reqs, sizeof(reqs), "%s/requests.jsonl", fz_dir());
    /* limits alone: the core decides too_large or forbidden; no plugin. */
    const char *y = "version: 1\nlimits: { max_request_bytes: 1000 }\nstack: []\n";
    fz_write(path, (const uint8_t *)y, strlen(y));
    if (mcpauth_open(&policy, path, &err) != MCPAUTH_OK)
        abort();
    if (!freopen("/dev/null", "w", stdout))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!policy)
        fz_init();
    fz_write(reqs, data, size);
    check_opts o = { NULL, reqs, 1, size % 2, 1 };
    int rc = run_requests(policy, &o);
    if (rc != CLI_EXIT_OK && rc != CLI_EXIT_DENY && rc != CLI_EXIT_USAGE)
        abort();
    return 0;
}
