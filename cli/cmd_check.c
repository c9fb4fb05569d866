/* cmd_check.c: `mcpauth check`: run the stack on requests as an embedding
 * server would, and print each decision. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcpauth/mcpauth.h"

#define CHECK_TRACE_MAX 64

typedef struct check_opts {
    const char *policy, *requests;
    long repeat;
    int trace, json;
} check_opts;

static void check_usage(FILE *f)
{
    fprintf(f,
        "usage: mcpauth check --policy FILE [--key K] [--ip IP] [--method M] [--tool T]\n"
        "                     [--resource URI] [--transport T] [--bytes N]\n"
        "                     [--forwarded-for V] [--now RFC3339] [--repeat N]\n"
        "                     [--trace] [--json]\n"
        "       mcpauth check --policy FILE --requests FILE|- [--trace]\n"
        "  Prints 'allow' or 'deny REASON', then details; --json: one JSON object a\n"
        "  decision. --requests reads one JSON object a line (key, ip, method, tool,\n"
        "  resource, transport, bytes, forwarded_for, now) and prints one JSON\n"
        "  decision a line. Exit 0 when the last decision allows, 1 when it denies,\n"
        "  2 on a usage, input or policy error.\n");
}

static json_t *decision_json(const mcpauth_decision *d, const mcpauth_trace_entry *t,
                             size_t nt, int trace, size_t omitted)
{
    json_t *o = json_pack("{s:b,s:s,s:i,s:i,s:s,s:s,s:I}", "allowed", d->allowed,
                          "reason", mcpauth_reason_name(d->reason), "http_status",
                          d->http_status, "retry_after", (int)d->retry_after, "plugin",
                          d->plugin, "message", d->message, "latency_ns",
                          (json_int_t)d->latency_ns);
    if (o && d->has_principal) {
        json_object_set_new(o, "key_id", json_string(d->key_id));
        json_object_set_new(o, "key_name", json_string(d->key_name));
        json_object_set_new(o, "role", d->role[0] ? json_string(d->role) : json_null());
        json_object_set_new(o, "key_type", json_string(d->key_type));
    }
    if (o && trace) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nt; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "name", t[i].name,
                "control", mcpauth_control_name(t[i].control), "vote",
                mcpauth_trace_vote_name(t[i].vote), "reason", mcpauth_reason_name(t[i].reason),
                "elapsed_ns", (json_int_t)t[i].elapsed_ns, "detail", t[i].detail));
        json_object_set_new(o, "trace", arr);
        if (omitted)
            json_object_set_new(o, "trace_omitted", json_integer((json_int_t)omitted));
    }
    return o;
}

static void print_json(const mcpauth_decision *d, const mcpauth_trace_entry *t,
                       size_t nt, int trace, size_t omitted)
{
    json_t *o = decision_json(d, t, nt, trace, omitted);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    printf("%s\n", s ? s : "{\"allowed\":false,\"reason\":\"internal_error\"}");
    free(s);
    json_decref(o);
}

static void print_text(const mcpauth_decision *d, const mcpauth_trace_entry *t,
                       size_t nt, int trace, size_t omitted)
{
    if (d->allowed)
        printf("allow\n");
    else
        printf("deny %s\n", mcpauth_reason_name(d->reason));
    printf("  http_status: %d\n  plugin: %s\n  message: %s\n", d->http_status,
           d->plugin[0] ? d->plugin : "(none)", d->message);
    if (d->retry_after)
        printf("  retry_after: %u\n", d->retry_after);
    if (d->has_principal)
        printf("  principal: key_id=%s name=%s role=%s type=%s\n", d->key_id, d->key_name,
               d->role[0] ? d->role : "(none)", d->key_type);
    for (size_t i = 0; trace && i < nt; i++)
        printf("  trace: %-16s %-10s %-7s %-15s %6lluns%s%s\n", t[i].name,
               mcpauth_control_name(t[i].control), mcpauth_trace_vote_name(t[i].vote),
               mcpauth_reason_name(t[i].reason), (unsigned long long)t[i].elapsed_ns,
               t[i].detail[0] ? "  " : "", t[i].detail);
    if (trace && omitted)
        printf("  trace: ... and %zu more entr%s, not shown (at most %d are)\n", omitted,
               omitted == 1 ? "y" : "ies", CHECK_TRACE_MAX);
}

static int run_one(mcpauth *a, const mcpauth_request *req, const check_opts *o, int json)
{
    mcpauth_decision d;
    mcpauth_trace_entry t[CHECK_TRACE_MAX];
    size_t nt = 0;
    mcpauth_check_ex(a, req, MCPAUTH_CHECK_TIMED, &d, o->trace ? t : NULL, CHECK_TRACE_MAX, &nt);
    /* A full trace of a longer stack was cut: say so rather than let the
     * last lines pass for the whole stack. (A request refused by the
     * limits before the stack ran has an empty trace, nothing cut.) */
    size_t n = mcpauth_stack_size(a), omitted = nt == CHECK_TRACE_MAX && n > nt ? n - nt : 0;
    if (json)
        print_json(&d, t, nt, o->trace, omitted);
    else
        print_text(&d, t, nt, o->trace, omitted);
    fflush(stdout);
    return d.allowed ? CLI_EXIT_OK : CLI_EXIT_DENY;
}

static void default_method(mcpauth_request *r)
{
    if (r->method)
        return;
    if (r->tool)
        r->method = "tools/call";
    else if (r->resource)
        r->method = "resources/read";
}

/* A string field of a --requests line; absent or null is NULL. */
static int req_str(json_t *o, const char *k, const char **out, long line)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        cli_err("requests line %ld: '%s' must be a string", line, k);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int req_fields(json_t *o, mcpauth_request *r, long line)
{
    static const char *const known[] = { "key", "ip", "method", "tool", "resource",
                                         "transport", "bytes", "forwarded_for", "now" };
    const char *k, *now = NULL;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], k))
            i++;
        if (i == sizeof(known) / sizeof(known[0])) {
            cli_err("requests line %ld: unknown field '%s'", line, k);
            return -1;
        }
    }
    if (req_str(o, "key", &r->credential, line) || req_str(o, "ip", &r->client_ip, line) ||
        req_str(o, "method", &r->method, line) || req_str(o, "tool", &r->tool, line) ||
        req_str(o, "resource", &r->resource, line) ||
        req_str(o, "transport", &r->transport, line) ||
        req_str(o, "forwarded_for", &r->forwarded_for, line) || req_str(o, "now", &now, line))
        return -1;
    json_t *b = json_object_get(o, "bytes");
    if (b && !(json_is_integer(b) && json_integer_value(b) >= 0)) {
        cli_err("requests line %ld: 'bytes' must be a non-negative integer", line);
        return -1;
    }
    r->bytes = b ? (uint64_t)json_integer_value(b) : 0;
    if (now && mcpauth_parse_time_ms(now, &r->now_ms) != MCPAUTH_OK) {
        cli_err("requests line %ld: 'now' is not an RFC 3339 time: %s", line, now);
        return -1;
    }
    default_method(r);
    return 0;
}

static int run_requests(mcpauth *a, const check_opts *o)
{
    FILE *f = strcmp(o->requests, "-") ? fopen(o->requests, "r") : stdin;
    if (!f) {
        cli_err("%s: cannot read requests", o->requests);
        return CLI_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    int rc = CLI_EXIT_OK;
    while (getline(&line, &cap, f) >= 0) {
        n++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        json_error_t je;
        json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &je);
        mcpauth_request r = MCPAUTH_REQUEST_INIT;
        if (!obj || !json_is_object(obj)) {
            cli_err("requests line %ld: not a JSON object%s%s", n, obj ? "" : ": ",
                    obj ? "" : je.text);
            json_decref(obj);
            rc = CLI_EXIT_USAGE;
            break;
        }
        if (req_fields(obj, &r, n) != 0) {
            json_decref(obj);
            rc = CLI_EXIT_USAGE;
            break;
        }
        rc = run_one(a, &r, o, 1);
        json_decref(obj);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* A number given to option `opt`: decimal digits only, from min to max.
 * strtoull alone takes "-4" (wrapping it), " 4" and "+4", and saturates an
 * overflow at its largest value: the request would then go out with a
 * value nobody typed, so every one of those is refused. */
static int parse_count(const char *opt, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    if (s[0] == '-' && all_digits(s + 1)) {
        cli_err("%s: %s is negative; give a number from %llu to %llu", opt, s, min, max);
        return -1;
    }
    if (!all_digits(s)) {
        cli_err("%s: '%s' is not a number (digits 0-9 only)", opt, s);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE || v < min || v > max) {
        cli_err("%s: %s is out of range (%llu to %llu)", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

enum { O_POLICY = 256, O_KEY, O_IP, O_METHOD, O_TOOL, O_RESOURCE, O_TRANSPORT, O_BYTES,
       O_FWD, O_NOW, O_REPEAT, O_TRACE, O_JSON, O_REQUESTS, O_HELP };

static int parse_opt(int c, const char *arg, check_opts *o, mcpauth_request *r)
{
    unsigned long long v;
    switch (c) {
    case O_POLICY: o->policy = arg; return 0;
    case O_KEY: r->credential = arg; return 0;
    case O_IP: r->client_ip = arg; return 0;
    case O_METHOD: r->method = arg; return 0;
    case O_TOOL: r->tool = arg; return 0;
    case O_RESOURCE: r->resource = arg; return 0;
    case O_TRANSPORT: r->transport = arg; return 0;
    case O_FWD: r->forwarded_for = arg; return 0;
    case O_TRACE: o->trace = 1; return 0;
    case O_JSON: o->json = 1; return 0;
    case O_REQUESTS: o->requests = arg; return 0;
    case O_BYTES:
        if (parse_count("--bytes", arg, 0, UINT64_MAX, &v)) return -1;
        r->bytes = (uint64_t)v;
        return 0;
    case O_REPEAT:
        if (parse_count("--repeat", arg, 1, LONG_MAX, &v)) return -1;
        o->repeat = (long)v;
        return 0;
    case O_NOW:
        if (mcpauth_parse_time_ms(arg, &r->now_ms) == MCPAUTH_OK) return 0;
        cli_err("--now: not an RFC 3339 time: %s", arg);
        return -1;
    }
    cli_err("bad value for an option: '%s'", arg ? arg : "");
    return -1;
}

static const struct option check_longopts[] = {
    { "policy", required_argument, 0, O_POLICY }, { "key", required_argument, 0, O_KEY },
    { "ip", required_argument, 0, O_IP }, { "method", required_argument, 0, O_METHOD },
    { "tool", required_argument, 0, O_TOOL }, { "resource", required_argument, 0, O_RESOURCE },
    { "transport", required_argument, 0, O_TRANSPORT }, { "bytes", required_argument, 0, O_BYTES },
    { "forwarded-for", required_argument, 0, O_FWD }, { "now", required_argument, 0, O_NOW },
    { "repeat", required_argument, 0, O_REPEAT }, { "trace", no_argument, 0, O_TRACE },
    { "json", no_argument, 0, O_JSON }, { "requests", required_argument, 0, O_REQUESTS },
    { "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
};

int cli_check(int argc, char **argv)
{
    check_opts o = { NULL, NULL, 1, 0, 0 };
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", check_longopts, NULL)) != -1) {
        if (c == O_HELP) {
            check_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            cli_err("unknown or incomplete option '%s'", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
        if (parse_opt(c, optarg, &o, &r) != 0)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc || !o.policy) {
        cli_err(optind < argc ? "unexpected argument '%s'" : "--policy FILE is required%s",
                optind < argc ? argv[optind] : "");
        return CLI_EXIT_USAGE;
    }
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_options opts = MCPAUTH_OPTIONS_INIT;
    opts.log = cli_log;
    if (mcpauth_open_ex(&a, o.policy, NULL, &opts, &err) != MCPAUTH_OK) {
        cli_err("%s", err.message);
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_OK;
    default_method(&r);
    if (o.requests)
        rc = run_requests(a, &o);
    else
        for (long i = 0; i < o.repeat; i++)
            rc = run_one(a, &r, &o, o.json);
    mcpauth_close(a);
    return rc;
}
