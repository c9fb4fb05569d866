/* cmd_policy.c: `mcpauth policy check FILE`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mcpauth/mcpauth.h"

static void policy_usage(FILE *f)
{
    fprintf(f, "usage: mcpauth policy check FILE\n"
               "  Load the policy as a server would and print its resolved stack.\n"
               "  Exit 0 when it loads, 2 with file:line:col when it does not.\n");
}

static int policy_check(const char *path)
{
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_options opts = MCPAUTH_OPTIONS_INIT;
    opts.log = cli_log;
    if (mcpauth_open_ex(&a, path, NULL, &opts, &err) != MCPAUTH_OK) {
        cli_err("%s", err.message);
        return CLI_EXIT_USAGE;
    }
    size_t n = mcpauth_stack_size(a);
    printf("%s: ok, %zu entr%s\n", path, n, n == 1 ? "y" : "ies");
    for (size_t i = 0; i < n; i++) {
        const char *label, *so;
        mcpauth_control c;
        if (mcpauth_stack_entry(a, i, &label, &c, &so) == MCPAUTH_OK)
            printf("%2zu  %-10s %-20s %s\n", i + 1, mcpauth_control_name(c), label, so);
    }
    if (n == 0)
        printf("warning: the stack is empty: every request will be denied\n");
    mcpauth_close(a);
    return CLI_EXIT_OK;
}

int cli_policy(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        policy_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "check")) {
        policy_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return policy_check(argv[2]);
}
