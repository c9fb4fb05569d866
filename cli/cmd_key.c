/* cmd_key.c: `mcpauth key create|list|show|revoke|rotate|update`: a thin
 * layer over the store API (mcpauth/store.h). A new key is printed exactly
 * once, at create or rotate. Any bad input is a one-line error and exit 2,
 * with nothing written. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcpauth/mcpauth.h"

#define KEY_SOON_MS (7LL * 24 * 3600 * 1000)

enum { K_STORE = 256, K_JSON, K_NAME, K_ROLE, K_TYPE, K_EXPIRES, K_IP, K_TOOL,
       K_ALL, K_GRACE, K_CLEAR_IPS, K_CLEAR_TOOLS, K_NOW, K_PREFIX, K_HELP };

typedef struct key_opts {
    const char *store, *name, *role, *type, *expires, *grace, *id, *prefix;
    const char **ips, **tools;  /* NULL-terminated; room for every argument,
                                   so no --ip or --tool is ever dropped */
    size_t nips, ntools;
    int json, all, clear_ips, clear_tools, set_role;
    int64_t now_ms;
} key_opts;

typedef struct key_verb {
    const char *name;
    int (*run)(mcpauth_store *s, key_opts *o);
    unsigned allowed;    /* bit (K_x - 256) for each option it takes */
    int takes_id;
} key_verb;

#define KB(x) (1u << ((x) - 256))

static void key_usage(FILE *f)
{
    fprintf(f,
        "usage: mcpauth key create --name NAME --role ROLE [--type live|test]\n"
        "                          [--expires 90d|RFC3339] [--ip CIDR]... [--tool PATTERN]...\n"
        "                          [--prefix P] [--store PATH] [--json]\n"
        "       mcpauth key list   [--all] [--json] [--store PATH]\n"
        "       mcpauth key show   ID [--json] [--store PATH]\n"
        "       mcpauth key revoke ID [--store PATH]\n"
        "       mcpauth key rotate ID [--grace 24h] [--json] [--store PATH]\n"
        "       mcpauth key update ID [--name N] [--role R] [--expires D|never] [--ip CIDR]...\n"
        "                          [--clear-ips] [--tool PATTERN]... [--clear-tools] [--store PATH]\n"
        "  The store is --store, else $MCPAUTH_STORE, else %s.\n"
        "  Durations: Ns, Nm, Nh, Nd. --now RFC3339 replaces the clock (scripts, tests).\n"
        "  --prefix (1-16 of a-z0-9, a letter first; default %s) applies when create\n"
        "  makes a new store; an existing store keeps its own and refuses another.\n"
        "  create and rotate print the key once: store it then, it cannot be shown again.\n",
        mcpauth_store_default_path(), MCPAUTH_KEY_DEFAULT_PREFIX);
}

static const struct option key_longopts[] = {
    { "store", required_argument, 0, K_STORE }, { "json", no_argument, 0, K_JSON },
    { "name", required_argument, 0, K_NAME }, { "role", required_argument, 0, K_ROLE },
    { "type", required_argument, 0, K_TYPE }, { "expires", required_argument, 0, K_EXPIRES },
    { "ip", required_argument, 0, K_IP }, { "tool", required_argument, 0, K_TOOL },
    { "all", no_argument, 0, K_ALL }, { "grace", required_argument, 0, K_GRACE },
    { "clear-ips", no_argument, 0, K_CLEAR_IPS },
    { "clear-tools", no_argument, 0, K_CLEAR_TOOLS },
    { "now", required_argument, 0, K_NOW }, { "prefix", required_argument, 0, K_PREFIX },
    { "help", no_argument, 0, K_HELP },
    { 0, 0, 0, 0 },
};

/* ---- output ------------------------------------------------------------- */

static void fmt_time(int64_t ms, char *buf, size_t cap)
{
    if (ms)
        mcpauth_format_time_ms(ms, buf, cap);
    else
        snprintf(buf, cap, "never");
}

static const char *key_status(const mcpauth_key_info *k, int64_t now)
{
    if (k->revoked_ms)
        return "revoked";
    if (k->expires_ms && now >= k->expires_ms)
        return "expired";
    if (k->expires_ms && k->expires_ms - now <= KEY_SOON_MS)
        return "expiring";
    if (k->grace_until_ms && now < k->grace_until_ms)
        return "rotating";
    return "active";
}

static json_t *json_time(int64_t ms)
{
    char t[32];
    if (!ms)
        return json_null();
    mcpauth_format_time_ms(ms, t, sizeof(t));
    return json_string(t);
}

static json_t *json_list(const char *const *l)
{
    json_t *a = json_array();
    for (size_t i = 0; l && l[i]; i++)
        json_array_append_new(a, json_string(l[i]));
    return a;
}

static json_t *key_json(const mcpauth_key_info *k, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(k->id));
    json_object_set_new(o, "name", json_string(k->name));
    json_object_set_new(o, "role", k->role ? json_string(k->role) : json_null());
    json_object_set_new(o, "type", json_string(k->type));
    json_object_set_new(o, "created", json_time(k->created_ms));
    json_object_set_new(o, "expires", json_time(k->expires_ms));
    json_object_set_new(o, "revoked", json_time(k->revoked_ms));
    json_object_set_new(o, "grace_until", json_time(k->grace_until_ms));
    json_object_set_new(o, "allowed_ips", json_list(k->allowed_ips));
    json_object_set_new(o, "allowed_tools", json_list(k->allowed_tools));
    json_object_set_new(o, "status", json_string(key_status(k, now)));
    json_object_set_new(o, "expiring_soon",
                        json_boolean(!strcmp(key_status(k, now), "expiring")));
    return o;
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static void print_list(const char *label, const char *const *l)
{
    if (!l)
        return;
    printf("%-12s", label);
    for (size_t i = 0; l[i]; i++)
        printf("%s%s", i ? ", " : "", l[i]);
    putchar('\n');
}

static void print_key(const mcpauth_key_info *k, int64_t now)
{
    char t[32];
    printf("%-12s%s\n%-12s%s\n%-12s%s\n%-12s%s\n", "id", k->id, "name", k->name,
           "role", k->role ? k->role : "-", "type", k->type);
    fmt_time(k->created_ms, t, sizeof(t));
    printf("%-12s%s\n", "created", t);
    fmt_time(k->expires_ms, t, sizeof(t));
    printf("%-12s%s\n", "expires", t);
    if (k->revoked_ms) {
        fmt_time(k->revoked_ms, t, sizeof(t));
        printf("%-12s%s\n", "revoked", t);
    }
    if (k->grace_until_ms) {
        fmt_time(k->grace_until_ms, t, sizeof(t));
        printf("%-12s%s\n", "grace until", t);
    }
    print_list("allowed ips", k->allowed_ips);
    print_list("tools", k->allowed_tools);
    printf("%-12s%s\n", "status", key_status(k, now));
}

/* The one time a key is shown. */
static void print_new_key(const char *key, const mcpauth_key_info *k, key_opts *o)
{
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(k->id));
        json_object_set_new(j, "key", json_string(key));
        json_object_set_new(j, "name", json_string(k->name));
        json_object_set_new(j, "role", k->role ? json_string(k->role) : json_null());
        json_object_set_new(j, "type", json_string(k->type));
        json_object_set_new(j, "expires", json_time(k->expires_ms));
        if (k->grace_until_ms)
            json_object_set_new(j, "grace_until", json_time(k->grace_until_ms));
        print_json(j);
        return;
    }
    printf("%-12s%s\n", "key", key);
    print_key(k, o->now_ms);
    fflush(stdout); /* the key first, then the warning, when both go to a tty */
    fprintf(stderr, "Store this key now: it is not shown again.\n");
}

/* ---- verbs -------------------------------------------------------------- */

static int fail(const mcpauth_error *err)
{
    cli_err("%s", err->message);
    return CLI_EXIT_USAGE;
}

/* --expires: a duration from now, an RFC 3339 time, or (update) "never".
 * A time at or before now is refused: it would make a key that is expired
 * the moment it is written, and exit 0 as if all were well. */
static int parse_expires(const char *text, int allow_never, int64_t now, int64_t *out)
{
    int64_t d;
    if (allow_never && !strcmp(text, "never")) {
        *out = 0;
        return 0;
    }
    if (mcpauth_parse_duration_ms(text, &d) == MCPAUTH_OK && d > 0) {
        *out = now + d;
        return 0;
    }
    if (mcpauth_parse_time_ms(text, out) == MCPAUTH_OK && *out > 0) {
        if (*out > now)
            return 0;
        char t[32];
        mcpauth_format_time_ms(now, t, sizeof(t));
        cli_err("--expires: %s is not in the future (now is %s); the key would be "
                "expired already", text, t);
        return -1;
    }
    cli_err("--expires: '%s' is not a duration (90d, 12h, 30m, 45s)%s or an RFC 3339 time",
            text, allow_never ? ", never," : "");
    return -1;
}

static int check_ips(const key_opts *o)
{
    for (size_t i = 0; i < o->nips; i++)
        if (mcpauth_key_check_cidr(o->ips[i]) != MCPAUTH_OK) {
            cli_err("--ip: '%s' is not an IP address or CIDR", o->ips[i]);
            return -1;
        }
    return 0;
}

static int key_create(mcpauth_store *s, key_opts *o)
{
    mcpauth_key_spec sp = MCPAUTH_KEY_SPEC_INIT;
    char key[MCPAUTH_KEY_TEXT_MAX];
    mcpauth_key_info *info = NULL;
    mcpauth_error err;
    sp.name = o->name;
    sp.role = o->role;
    sp.type = o->type;
    sp.allowed_ips = o->nips ? o->ips : NULL;
    sp.allowed_tools = o->ntools ? o->tools : NULL;
    if (o->expires && parse_expires(o->expires, 0, o->now_ms, &sp.expires_ms))
        return CLI_EXIT_USAGE;
    if (mcpauth_store_create(s, &sp, o->now_ms, key, sizeof(key), &info, &err))
        return fail(&err);
    print_new_key(key, info, o);
    explicit_bzero(key, sizeof(key)); /* libsodium is not linked here */
    mcpauth_key_info_free(info);
    return CLI_EXIT_OK;
}

static int key_list(mcpauth_store *s, key_opts *o)
{
    mcpauth_key_list *l = NULL;
    mcpauth_error err;
    if (mcpauth_store_list(s, &l, &err) != MCPAUTH_OK)
        return fail(&err);
    json_t *arr = o->json ? json_array() : NULL;
    if (!o->json)
        printf("%-13s %-4s %-20s %-14s %-24s %s\n", "ID", "TYPE", "NAME", "ROLE",
               "EXPIRES", "STATUS");
    for (size_t i = 0; i < l->count; i++) {
        const mcpauth_key_info *k = &l->keys[i];
        const char *st = key_status(k, o->now_ms);
        if (!o->all && (!strcmp(st, "revoked") || !strcmp(st, "expired")))
            continue;
        if (arr) {
            json_array_append_new(arr, key_json(k, o->now_ms));
            continue;
        }
        char t[32];
        fmt_time(k->expires_ms, t, sizeof(t));
        printf("%-13s %-4s %-20s %-14s %-24s %s%s\n", k->id, k->type, k->name,
               k->role ? k->role : "-", t, st,
               !strcmp(st, "expiring") ? " (within 7 days: rotate it)" : "");
    }
    if (arr)
        print_json(arr);
    mcpauth_key_list_free(l);
    return CLI_EXIT_OK;
}

static int key_show(mcpauth_store *s, key_opts *o)
{
    mcpauth_key_info *k = NULL;
    mcpauth_error err;
    if (mcpauth_store_get(s, o->id, &k, &err) != MCPAUTH_OK)
        return fail(&err);
    if (o->json)
        print_json(key_json(k, o->now_ms));
    else
        print_key(k, o->now_ms);
    mcpauth_key_info_free(k);
    return CLI_EXIT_OK;
}

static int key_revoke(mcpauth_store *s, key_opts *o)
{
    mcpauth_error err;
    mcpauth_status st = mcpauth_store_revoke(s, o->id, o->now_ms, &err);
    if (st == MCPAUTH_EEXIST) {
        cli_err("%s; nothing to do", err.message);
        return CLI_EXIT_OK;
    }
    if (st != MCPAUTH_OK)
        return fail(&err);
    printf("revoked %s\n", o->id);
    return CLI_EXIT_OK;
}

static int key_rotate(mcpauth_store *s, key_opts *o)
{
    int64_t grace = 0;
    char key[MCPAUTH_KEY_TEXT_MAX];
    mcpauth_key_info *info = NULL;
    mcpauth_error err;
    if (o->grace && mcpauth_parse_duration_ms(o->grace, &grace) != MCPAUTH_OK) {
        cli_err("--grace: '%s' is not a duration (24h, 30m, 7d)", o->grace);
        return CLI_EXIT_USAGE;
    }
    if (mcpauth_store_rotate(s, o->id, grace, o->now_ms, key, sizeof(key), &info, &err))
        return fail(&err);
    print_new_key(key, info, o);
    explicit_bzero(key, sizeof(key));
    mcpauth_key_info_free(info);
    return CLI_EXIT_OK;
}

/* --ip/--tool add to the key's lists; --clear-* empty them first. Sized
 * from the real counts: a key made through the API may hold any number of
 * entries, and an update must keep every one of them. NULL: out of memory. */
static const char **merged(const char *const *old, int clear, const char **add,
                           size_t nadd)
{
    size_t nold = 0, n = 0;
    while (!clear && old && old[nold])
        nold++;
    const char **l = calloc(nold + nadd + 1, sizeof(*l));
    if (!l)
        return NULL;
    for (size_t i = 0; i < nold; i++)
        l[n++] = old[i];
    for (size_t i = 0; i < nadd; i++)
        l[n++] = add[i];
    return l;
}

static int key_update(mcpauth_store *s, key_opts *o)
{
    mcpauth_key_info *cur = NULL, *after = NULL;
    mcpauth_error err;
    const char **ips = NULL, **tools = NULL;
    mcpauth_key_update u;
    memset(&u, 0, sizeof(u));
    if (o->expires && parse_expires(o->expires, 1, o->now_ms, &u.expires_ms))
        return CLI_EXIT_USAGE;
    if (mcpauth_store_get(s, o->id, &cur, &err) != MCPAUTH_OK)
        return fail(&err);
    u.name = o->name;
    u.set_role = o->set_role;
    u.role = o->role;
    u.set_expires = o->expires != NULL;
    u.set_ips = o->clear_ips || o->nips;
    if (u.set_ips)
        u.allowed_ips = ips = merged(cur->allowed_ips, o->clear_ips, o->ips, o->nips);
    u.set_tools = o->clear_tools || o->ntools;
    if (u.set_tools)
        u.allowed_tools = tools = merged(cur->allowed_tools, o->clear_tools, o->tools,
                                         o->ntools);
    int rc = CLI_EXIT_OK;
    if ((u.set_ips && !ips) || (u.set_tools && !tools)) {
        cli_err("key update: out of memory");
        rc = CLI_EXIT_USAGE;
    } else if (mcpauth_store_update(s, o->id, &u, o->now_ms, &after, &err) != MCPAUTH_OK)
        rc = fail(&err);
    else
        print_key(after, o->now_ms);
    free(ips);
    free(tools);
    mcpauth_key_info_free(cur);
    mcpauth_key_info_free(after);
    return rc;
}

static const key_verb key_verbs[] = {
    { "create", key_create, KB(K_STORE) | KB(K_JSON) | KB(K_NAME) | KB(K_ROLE) |
      KB(K_TYPE) | KB(K_EXPIRES) | KB(K_IP) | KB(K_TOOL) | KB(K_NOW) | KB(K_PREFIX), 0 },
    { "list", key_list, KB(K_STORE) | KB(K_JSON) | KB(K_ALL) | KB(K_NOW), 0 },
    { "show", key_show, KB(K_STORE) | KB(K_JSON) | KB(K_NOW), 1 },
    { "revoke", key_revoke, KB(K_STORE) | KB(K_NOW), 1 },
    { "rotate", key_rotate, KB(K_STORE) | KB(K_JSON) | KB(K_GRACE) | KB(K_NOW), 1 },
    { "update", key_update, KB(K_STORE) | KB(K_NAME) | KB(K_ROLE) | KB(K_EXPIRES) |
      KB(K_IP) | KB(K_TOOL) | KB(K_CLEAR_IPS) | KB(K_CLEAR_TOOLS) | KB(K_NOW), 1 },
};

/* ---- options ------------------------------------------------------------ */

/* list has room for every argument (cli_key), so nothing is dropped. */
static int add_item(const char **list, size_t *n, const char *v)
{
    list[(*n)++] = v;
    list[*n] = NULL;
    return 0;
}

static int set_opt(key_opts *o, int c, const char *arg)
{
    switch (c) {
    case K_STORE: o->store = arg; return 0;
    case K_JSON: o->json = 1; return 0;
    case K_NAME: o->name = arg; return 0;
    case K_ROLE: o->role = arg; o->set_role = 1; return 0;
    case K_TYPE:
        if (strcmp(arg, "live") && strcmp(arg, "test")) {
            cli_err("--type: '%s' is not live or test", arg);
            return -1;
        }
        o->type = arg;
        return 0;
    case K_EXPIRES: o->expires = arg; return 0;
    case K_IP: return add_item(o->ips, &o->nips, arg);
    case K_TOOL: return add_item(o->tools, &o->ntools, arg);
    case K_PREFIX: o->prefix = arg; return 0;
    case K_ALL: o->all = 1; return 0;
    case K_GRACE: o->grace = arg; return 0;
    case K_CLEAR_IPS: o->clear_ips = 1; return 0;
    case K_CLEAR_TOOLS: o->clear_tools = 1; return 0;
    default:
        if (mcpauth_parse_time_ms(arg, &o->now_ms) == MCPAUTH_OK)
            return 0;
        cli_err("--now: not an RFC 3339 time: %s", arg);
        return -1;
    }
}

static int parse_opts(const key_verb *v, int argc, char **argv, key_opts *o)
{
    int c, li = -1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", key_longopts, &li)) != -1) {
        if (c == K_HELP) {
            key_usage(stdout);
            return 1;
        }
        if (c == '?' || c == ':') {
            cli_err("key %s: unknown or incomplete option '%s'", v->name, argv[optind - 1]);
            return -1;
        }
        if (!(v->allowed & KB(c))) {
            cli_err("key %s: option '--%s' does not apply here", v->name,
                    key_longopts[li].name);
            return -1;
        }
        if (set_opt(o, c, optarg) != 0)
            return -1;
    }
    if (v->takes_id && optind < argc)
        o->id = argv[optind++];
    if (v->takes_id && !o->id) {
        cli_err("key %s: which key? give its ID (see `mcpauth key list`)", v->name);
        return -1;
    }
    if (optind < argc) {
        cli_err("key %s: unexpected argument '%s'", v->name, argv[optind]);
        return -1;
    }
    if (!strcmp(v->name, "create") && !o->name) {
        cli_err("key create: --name is required");
        return -1;
    }
    /* A key without a role is denied by every policy with a role entry:
     * the role is asked for, not silently left out. */
    if (!strcmp(v->name, "create") && !o->role) {
        cli_err("key create: --role is required (admin, operator, monitor, device, "
                "or a role your policy defines)");
        return -1;
    }
    return check_ips(o);
}

/* --prefix names the prefix of a store that create makes. An existing
 * store keeps its own: a different --prefix is refused, not ignored, since
 * the user would get keys that do not look as they asked. */
static int check_prefix(mcpauth_store *s, const key_opts *o)
{
    char have[32];
    mcpauth_store_prefix(s, have, sizeof(have));
    if (!strcmp(have, o->prefix))
        return 0;
    cli_err("--prefix: the store %s already exists with prefix '%s'; a store's "
            "prefix is set when it is created (drop --prefix, or use another "
            "--store)", o->store, have);
    return -1;
}

static int run_verb(const key_verb *v, key_opts *o)
{
    mcpauth_store_options so = MCPAUTH_STORE_OPTIONS_INIT;
    mcpauth_store *s = NULL;
    mcpauth_error err;
    if (v->run == key_create)
        so.flags = MCPAUTH_STORE_CREATE;
    so.prefix = o->prefix; /* refused by the open when malformed */
    if (mcpauth_store_open(&s, o->store, &so, &err) != MCPAUTH_OK)
        return fail(&err);
    int rc = o->prefix && check_prefix(s, o) ? CLI_EXIT_USAGE : v->run(s, o);
    mcpauth_store_close(s);
    return rc;
}

int cli_key(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        key_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const key_verb *v = NULL;
    for (size_t i = 0; i < sizeof(key_verbs) / sizeof(key_verbs[0]); i++)
        if (!strcmp(argv[1], key_verbs[i].name))
            v = &key_verbs[i];
    if (!v) {
        cli_err("key: unknown command '%s' (create, list, show, revoke, rotate, update)",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    key_opts o;
    memset(&o, 0, sizeof(o));
    /* each --ip or --tool is one argument: argc bounds how many there are */
    o.ips = calloc((size_t)argc + 1, sizeof(*o.ips));
    o.tools = calloc((size_t)argc + 1, sizeof(*o.tools));
    int rc = CLI_EXIT_USAGE;
    if (!o.ips || !o.tools) {
        cli_err("key: out of memory");
        goto out;
    }
    int p = parse_opts(v, argc - 1, argv + 1, &o);
    if (p != 0) {
        rc = p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        goto out;
    }
    if (!o.now_ms)
        o.now_ms = mcpauth_now_ms();
    if (!o.store)
        o.store = mcpauth_store_default_path();
    rc = run_verb(v, &o);
out:
    free(o.ips);
    free(o.tools);
    return rc;
}
