/* main.c: `mcpauth VERB ...` dispatches to one function per verb. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mcpauth/mcpauth.h"

typedef struct cli_verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_verb;

static const cli_verb cli_verbs[] = {
    { "policy", cli_policy, "policy check FILE: validate a policy, print its stack" },
    { "key", cli_key, "key create|list|show|revoke|rotate|update: manage API keys" },
    { "check", cli_check, "check --policy FILE ...: decide on requests" },
    { "audit", cli_audit, "audit show|verify PATH: read or verify an audit log" },
};

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mcpauth: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_log(void *arg, int level, const char *message)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    (void)arg;
    if (level > 1) /* info and debug would drown the decisions */
        return;
    fprintf(stderr, "mcpauth: %s: %s\n",
            level >= 0 && level <= 3 ? names[level] : "log", message);
}

static void cli_usage(FILE *f)
{
    fprintf(f, "usage: mcpauth VERB [ARGS]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof(cli_verbs) / sizeof(cli_verbs[0]); i++)
        fprintf(f, "  %-8s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
    fprintf(f, "\nmcpauth VERB --help shows a verb's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mcpauth %s\n", mcpauth_version());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(cli_verbs) / sizeof(cli_verbs[0]); i++)
        if (!strcmp(argv[1], cli_verbs[i].name))
            return cli_verbs[i].run(argc - 1, argv + 1);
    cli_err("unknown verb '%s'", argv[1]);
    cli_usage(stderr);
    return CLI_EXIT_USAGE;
}
