/* fuzz_policy.c: the policy loader (YAML, includes, limits, control flags,
 * plugin resolution) on arbitrary text through mcpauth_open_string. Plugins
 * named in the input are mostly missing: errors are expected, crashes,
 * leaks and hangs are not. Every error must come with a message. */
#include "fuzz_common.h"
#include "mcpauth/mcpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = fz_cstr(data, size);
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_status st = mcpauth_open_string(&a, yaml, &err);
    if (st != MCPAUTH_OK && (a || !err.message[0]))
        abort(); /* a failure leaves no handle and always says why */
    if (st == MCPAUTH_OK) {
        mcpauth_request r = MCPAUTH_REQUEST_INIT;
        mcpauth_decision d;
        r.method = "tools/call";
        r.tool = "get_status";
        mcpauth_check(a, &r, &d);
        if (d.allowed && mcpauth_stack_size(a) == 0)
            abort(); /* an empty stack never allows */
    }
    mcpauth_close(a);
    free(yaml);
    return 0;
}
