/* cmd_audit.c: `mcpauth audit show|verify`: read and verify the audit-file
 * plugin's log through the embedding API (mcpauth/audit.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcpauth/mcpauth.h"

static void audit_usage(FILE *f)
{
    fprintf(f,
        "usage: mcpauth audit show PATH [--since RFC3339|DURATION]\n"
        "                     [--decision allow|deny] [--key ID] [--reason R]\n"
        "                     [--event TYPE] [--json]\n"
        "       mcpauth audit verify PATH [--anchor HASH]\n"
        "  PATH is the live log; its rotated files PATH.1 (newest) .. PATH.N\n"
        "  (oldest) are read too, oldest first.\n"
        "  show: a table of the matching records, or with --json the records as\n"
        "  they are stored, one JSON object a line. --since takes a time\n"
        "  (2026-11-27T12:00:00Z) or a duration back from now (15m, 24h, 7d).\n"
        "  verify: checks the hash chain; exit 0 printing the record count and\n"
        "  the last hash (keep it elsewhere: --anchor HASH later proves that no\n"
        "  record after it was cut off), exit 1 printing file:line of the first\n"
        "  record that does not verify.\n"
        "  Exit 2 on a usage error or an unreadable log.\n");
}

/* --since: an RFC 3339 time, or a duration back from now. */
static int parse_since(const char *s, int64_t *out)
{
    int64_t d;
    if (mcpauth_parse_time_ms(s, out) == MCPAUTH_OK)
        return 0;
    if (mcpauth_parse_duration_ms(s, &d) != MCPAUTH_OK)
        return -1;
    *out = mcpauth_now_ms() - d;
    return 0;
}

/* Print a field from the log for a terminal: control characters (escape
 * sequences in a forged tool name) are shown as '?', never sent raw. */
static void put_field(const char *s, int width)
{
    int n = 0;
    if (!s || !*s)
        s = "-";
    for (; *s && (width <= 0 || n < width - 1); s++, n++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    for (; width > 0 && n < width; n++)
        putchar(' ');
}

static void print_row(const mcpauth_audit_record *r)
{
    printf("%-24s  %6llu  ", r->time, (unsigned long long)r->seq);
    if (r->is_decision) {
        put_field(r->allowed ? "allow" : "deny", 6);
        put_field(r->reason, 16);
    } else {
        put_field(r->event, 22);
    }
    put_field(r->key_id, 18);
    put_field(r->client_ip, 16);
    if (r->is_decision) {
        put_field(r->method, 0);
        if (r->tool || r->resource) {
            putchar(' ');
            put_field(r->tool ? r->tool : r->resource, 0);
        }
    } else {
        put_field(r->detail, 0);
    }
    putchar('\n');
}

typedef struct show_opts {
    mcpauth_audit_filter f;
    int json;
} show_opts;

static int show_parse(int argc, char **argv, show_opts *o)
{
    static const struct option longs[] = {
        { "since", required_argument, NULL, 's' },
        { "decision", required_argument, NULL, 'd' },
        { "key", required_argument, NULL, 'k' },
        { "reason", required_argument, NULL, 'r' },
        { "event", required_argument, NULL, 'e' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    mcpauth_reason reason;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_since(optarg, &o->f.since_ms) == 0)
                break;
            cli_err("--since: '%s' is neither an RFC 3339 time nor a duration", optarg);
            return -1;
        case 'd':
            if (strcmp(optarg, "allow") && strcmp(optarg, "deny")) {
                cli_err("--decision: allow or deny, not '%s'", optarg);
                return -1;
            }
            o->f.decision = !strcmp(optarg, "allow");
            break;
        case 'k': o->f.key_id = optarg; break;
        case 'r':
            if (mcpauth_reason_from_name(optarg, &reason) != 0) {
                cli_err("--reason: unknown reason '%s'", optarg);
                return -1;
            }
            o->f.reason = optarg;
            break;
        case 'e': o->f.event = optarg; break;
        case 'j': o->json = 1; break;
        case 'h': audit_usage(stdout); exit(CLI_EXIT_OK);
        default: return -1;
        }
    }
    return 0;
}

static int audit_show(int argc, char **argv)
{
    show_opts o = { MCPAUTH_AUDIT_FILTER_INIT, 0 };
    if (show_parse(argc, argv, &o) != 0 || optind != argc - 1) {
        audit_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    mcpauth_audit_reader *r;
    mcpauth_error err;
    if (mcpauth_audit_open(&r, argv[optind], &err) != MCPAUTH_OK) {
        cli_err("%s", err.message);
        return CLI_EXIT_USAGE;
    }
    if (!o.json)
        printf("%-24s  %6s  %-22s%-18s%-16s%s\n", "TIME", "SEQ", "DECISION/EVENT",
               "KEY", "CLIENT", "REQUEST/DETAIL");
    const mcpauth_audit_record *rec;
    mcpauth_status st;
    int bad = 0;
    while ((st = mcpauth_audit_next(r, &rec, &err)) != MCPAUTH_ENOTFOUND) {
        if (st != MCPAUTH_OK) {
            cli_err("%s (skipped)", err.message);
            bad = 1;
            if (st != MCPAUTH_ECORRUPT)
                break;
            continue;
        }
        if (!mcpauth_audit_match(&o.f, rec))
            continue;
        if (o.json)
            printf("%s\n", rec->line);
        else
            print_row(rec);
    }
    mcpauth_audit_reader_free(r);
    return bad ? CLI_EXIT_DENY : CLI_EXIT_OK;
}

static int audit_verify(int argc, char **argv)
{
    static const struct option longs[] = {
        { "anchor", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *anchor = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'a')
            anchor = optarg;
        else if (c == 'h')
            return audit_usage(stdout), CLI_EXIT_OK;
        else
            return audit_usage(stderr), CLI_EXIT_USAGE;
    }
    if (optind != argc - 1)
        return audit_usage(stderr), CLI_EXIT_USAGE;
    mcpauth_audit_verify_result res;
    mcpauth_error err;
    mcpauth_status st = mcpauth_audit_verify(argv[optind], anchor, &res, &err);
    if (st == MCPAUTH_ECORRUPT) {
        printf("FAILED: %s\n", err.message);
        return CLI_EXIT_DENY;
    }
    if (st != MCPAUTH_OK) {
        cli_err("%s", err.message);
        return CLI_EXIT_USAGE;
    }
    printf("ok: %llu records in %u file%s, seq %llu..%llu%s\n",
           (unsigned long long)res.records, res.files, res.files == 1 ? "" : "s",
           (unsigned long long)res.first_seq, (unsigned long long)res.last_seq,
           res.records == 0 ? "" : res.from_genesis
               ? " (complete from the first record)"
               : " (older records were rotated away)");
    printf("last hash: %s\n", res.last_hash[0] ? res.last_hash : "-");
    return CLI_EXIT_OK;
}

int cli_audit(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        audit_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    optind = 1;
    if (!strcmp(argv[1], "show"))
        return audit_show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "verify"))
        return audit_verify(argc - 1, argv + 1);
    cli_err("audit: unknown action '%s' (show or verify)", argv[1]);
    audit_usage(stderr);
    return CLI_EXIT_USAGE;
}
