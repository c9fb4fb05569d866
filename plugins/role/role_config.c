/* role_config.c: read the role plugin's config once, at create, merge it
 * with the predefined roles, check inheritance, and flatten every role into
 * compiled pattern sets so that a vote never walks the inheritance graph. */
#include "role.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lists a role definition may hold, in config-key order. */
enum {
    L_METHODS, L_TOOLS, L_RESOURCES,
    L_DENY_METHODS, L_DENY_TOOLS, L_DENY_RESOURCES,
    L_INHERITS, L_KEY_TYPES, L_COUNT
};

static const char *const role_list_keys[L_COUNT] = {
    "methods", "tools", "resources",
    "deny_methods", "deny_tools", "deny_resources",
    "inherits", "key_types",
};

#define ROLE_NAME_MAX 128 /* MCPAUTH_ROLE_MAX: the decision's role field */

typedef struct role_item {
    const char *text;
    const mcpauth_config *node; /* where it came from; NULL when built in */
} role_item;

typedef struct role_list {
    role_item *v;
    size_t n;
} role_list;

typedef struct role_src {
    const char *name;
    const mcpauth_config *node;  /* the role's map; NULL when predefined */
    role_list lists[L_COUNT];
    uint64_t max_bytes;          /* 0: none of its own */
    size_t *parents;             /* inherits, resolved to indices */
    int mark;                    /* cycle check: 0 new, 1 on path, 2 done */
} role_src;

typedef struct role_builder {
    const mcpauth_services *svc;
    role_src *srcs;
    size_t n, cap;
    role_list read_only;         /* monitor's tools */
    role_list device;            /* device's tools */
} role_builder;

/* The predefined roles, as the issue and docs/roles.md describe them. */
enum { TOOLS_ALL, TOOLS_READ_ONLY, TOOLS_DEVICE };

typedef struct role_builtin {
    const char *name;
    const char *const *methods;
    const char *const *deny_methods;
    const char *const *resources;
    int tools;
} role_builtin;

static const char *const rb_all[] = { "*", NULL };
static const char *const rb_none[] = { NULL };
static const char *const rb_operator_deny[] = { "logging/setLevel", "admin/*",
                                                NULL };
static const char *const rb_monitor_methods[] = {
    "initialize", "ping", "tools/list", "tools/call", "resources/list",
    "resources/templates/list", "resources/read", "prompts/list",
    "prompts/get", NULL };
static const char *const rb_device_methods[] = { "initialize", "ping",
                                                 "tools/list", "tools/call",
                                                 NULL };
static const char *const rb_read_only_default[] = { "get_*", "list_*",
                                                    "*_status", NULL };
static const char *const rb_device_default[] = { "report_*", NULL };

static const role_builtin role_builtins[] = {
    { "admin", rb_all, rb_none, rb_all, TOOLS_ALL },
    { "operator", rb_all, rb_operator_deny, rb_all, TOOLS_ALL },
    { "monitor", rb_monitor_methods, rb_none, rb_all, TOOLS_READ_ONLY },
    { "device", rb_device_methods, rb_none, rb_none, TOOLS_DEVICE },
};

unsigned role_key_type_bit(const char *key_type)
{
    if (key_type && strcmp(key_type, "live") == 0)
        return ROLE_KEY_LIVE;
    if (key_type && strcmp(key_type, "test") == 0)
        return ROLE_KEY_TEST;
    return 0;
}

static int role_list_static(role_list *l, const char *const *texts)
{
    size_t n = 0;
    while (texts[n])
        n++;
    l->v = calloc(n ? n : 1, sizeof(role_item));
    if (!l->v)
        return -1;
    for (l->n = 0; l->n < n; l->n++)
        l->v[l->n].text = texts[l->n];
    return 0;
}

static int role_list_copy(role_list *dst, const role_list *src)
{
    dst->v = calloc(src->n ? src->n : 1, sizeof(role_item));
    if (!dst->v)
        return -1;
    memcpy(dst->v, src->v, src->n * sizeof(role_item));
    dst->n = src->n;
    return 0;
}

/* Read `key` of `map` as a list of strings, keeping each item's node for
 * error messages (the core's config_string_nodes: a single scalar is a list
 * of one, an empty value an empty list). *present says whether the key was
 * there. */
static mcpauth_status role_read_list(role_builder *b, const mcpauth_config *map,
                                     const char *key, role_list *out,
                                     int *present)
{
    const mcpauth_services *svc = b->svc;
    const mcpauth_config *const *items = NULL;
    size_t count = 0;
    mcpauth_status st = svc->config_string_nodes(map, key, &items, &count);
    *present = st != MCPAUTH_ENOTFOUND;
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    out->v = calloc(count ? count : 1, sizeof(role_item));
    if (!out->v)
        return MCPAUTH_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        out->v[i].text = svc->config_scalar(items[i]);
        out->v[i].node = items[i];
    }
    out->n = count;
    return MCPAUTH_OK;
}

/* Every item of a pattern list must be a usable glob. */
static mcpauth_status role_check_patterns(role_builder *b, const role_list *l,
                                          const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *why = role_pattern_problem(l->v[i].text);
        if (why) {
            b->svc->config_error(l->v[i].node, NULL, "bad pattern in '%s': %s",
                                 key, why);
            return MCPAUTH_EPOLICY;
        }
    }
    return MCPAUTH_OK;
}

static mcpauth_status role_check_key_types(role_builder *b, const role_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!role_key_type_bit(l->v[i].text)) {
            b->svc->config_error(l->v[i].node, NULL,
                                 "unknown key type '%s' (expected live or test)",
                                 l->v[i].text);
            return MCPAUTH_EPOLICY;
        }
    }
    return MCPAUTH_OK;
}

static mcpauth_status role_read_max_bytes(role_builder *b, role_src *src)
{
    int64_t v = 0;
    mcpauth_status st = b->svc->config_int(src->node, "max_request_bytes", &v);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (v <= 0) {
        b->svc->config_error(src->node, "max_request_bytes",
                             "max_request_bytes must be a positive number of "
                             "bytes");
        return MCPAUTH_EPOLICY;
    }
    src->max_bytes = (uint64_t)v;
    return MCPAUTH_OK;
}

static role_src *role_push(role_builder *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        role_src *v = realloc(b->srcs, cap * sizeof(*v));
        if (!v)
            return NULL;
        b->srcs = v;
        b->cap = cap;
    }
    role_src *s = &b->srcs[b->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

/* One entry of `roles:`. */
static mcpauth_status role_read_one(role_builder *b, const char *name,
                                    const mcpauth_config *node)
{
    const mcpauth_services *svc = b->svc;
    if (!name || !*name || strlen(name) >= ROLE_NAME_MAX) {
        svc->config_error(node, NULL, "a role name must be 1 to %d bytes",
                          ROLE_NAME_MAX - 1);
        return MCPAUTH_EPOLICY;
    }
    if (svc->config_kind(node) != MCPAUTH_CONFIG_MAP) {
        svc->config_error(node, NULL, "role '%s' must be a map of settings",
                          name);
        return MCPAUTH_EPOLICY;
    }
    role_src *src = role_push(b);
    if (!src)
        return MCPAUTH_ENOMEM;
    src->name = name;
    src->node = node;
    mcpauth_status st = MCPAUTH_OK;
    for (int k = 0; k < L_COUNT && st == MCPAUTH_OK; k++) {
        int present;
        st = role_read_list(b, node, role_list_keys[k], &src->lists[k],
                            &present);
        if (st == MCPAUTH_OK && k <= L_DENY_RESOURCES)
            st = role_check_patterns(b, &src->lists[k], role_list_keys[k]);
        if (st == MCPAUTH_OK && k == L_KEY_TYPES)
            st = role_check_key_types(b, &src->lists[k]);
    }
    if (st == MCPAUTH_OK)
        st = role_read_max_bytes(b, src);
    return st;
}

static mcpauth_status role_read_roles(role_builder *b,
                                      const mcpauth_config *config)
{
    const mcpauth_services *svc = b->svc;
    const mcpauth_config *roles = NULL;
    mcpauth_status st = svc->config_node(config, "roles", &roles);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (svc->config_kind(roles) != MCPAUTH_CONFIG_MAP) {
        svc->config_error(config, "roles",
                          "'roles' must be a map from role name to settings");
        return MCPAUTH_EPOLICY;
    }
    size_t n = svc->config_count(roles);
    for (size_t i = 0; i < n && st == MCPAUTH_OK; i++) {
        const char *name = NULL;
        const mcpauth_config *node = svc->config_entry(roles, i, &name);
        st = role_read_one(b, name, node);
    }
    return st;
}

/* read_only_tools and device_tools: the tool patterns of the predefined
 * monitor and device roles. */
static mcpauth_status role_read_tool_defaults(role_builder *b,
                                              const mcpauth_config *config)
{
    static const char *const keys[2] = { "read_only_tools", "device_tools" };
    static const char *const *const defaults[2] = { rb_read_only_default,
                                                    rb_device_default };
    role_list *lists[2] = { &b->read_only, &b->device };
    for (int i = 0; i < 2; i++) {
        int present;
        mcpauth_status st = role_read_list(b, config, keys[i], lists[i],
                                           &present);
        if (st != MCPAUTH_OK)
            return st;
        if (present)
            st = role_check_patterns(b, lists[i], keys[i]);
        else if (role_list_static(lists[i], defaults[i]) != 0)
            st = MCPAUTH_ENOMEM;
        if (st != MCPAUTH_OK)
            return st;
    }
    return MCPAUTH_OK;
}

static int role_defined(const role_builder *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->srcs[i].name, name) == 0)
            return 1;
    return 0;
}

static int role_add_builtin(role_builder *b, const role_builtin *rb)
{
    role_src *src = role_push(b);
    if (!src)
        return -1;
    src->name = rb->name;
    const role_list *tools = rb->tools == TOOLS_READ_ONLY ? &b->read_only
                             : rb->tools == TOOLS_DEVICE  ? &b->device
                                                          : NULL;
    int rc = role_list_static(&src->lists[L_METHODS], rb->methods);
    rc |= role_list_static(&src->lists[L_DENY_METHODS], rb->deny_methods);
    rc |= role_list_static(&src->lists[L_RESOURCES], rb->resources);
    rc |= tools ? role_list_copy(&src->lists[L_TOOLS], tools)
                : role_list_static(&src->lists[L_TOOLS], rb_all);
    for (int k = 0; k < L_COUNT; k++)
        if (!src->lists[k].v)
            rc |= role_list_static(&src->lists[k], rb_none);
    return rc;
}

/* A policy role with a predefined name replaces the predefined one. */
static mcpauth_status role_add_builtins(role_builder *b)
{
    for (size_t i = 0; i < sizeof(role_builtins) / sizeof(role_builtins[0]);
         i++) {
        if (role_defined(b, role_builtins[i].name))
            continue;
        if (role_add_builtin(b, &role_builtins[i]) != 0)
            return MCPAUTH_ENOMEM;
    }
    return MCPAUTH_OK;
}

static int role_src_cmp(const void *a, const void *b)
{
    return strcmp(((const role_src *)a)->name, ((const role_src *)b)->name);
}

static int role_src_key_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const role_src *)elem)->name);
}

/* Sort by name (the table is searched by name), refuse duplicates, and
 * turn every `inherits` name into an index. */
static mcpauth_status role_resolve(role_builder *b)
{
    qsort(b->srcs, b->n, sizeof(role_src), role_src_cmp);
    for (size_t i = 1; i < b->n; i++) {
        if (strcmp(b->srcs[i - 1].name, b->srcs[i].name) == 0) {
            b->svc->config_error(b->srcs[i].node, NULL,
                                 "role '%s' is defined twice", b->srcs[i].name);
            return MCPAUTH_EPOLICY;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        role_src *s = &b->srcs[i];
        const role_list *inh = &s->lists[L_INHERITS];
        s->parents = calloc(inh->n ? inh->n : 1, sizeof(size_t));
        if (!s->parents)
            return MCPAUTH_ENOMEM;
        for (size_t k = 0; k < inh->n; k++) {
            const role_src *p = bsearch(inh->v[k].text, b->srcs, b->n,
                                        sizeof(role_src), role_src_key_cmp);
            if (!p) {
                b->svc->config_error(inh->v[k].node, NULL,
                                     "role '%s' inherits '%s', which is not "
                                     "defined", s->name, inh->v[k].text);
                return MCPAUTH_EPOLICY;
            }
            s->parents[k] = (size_t)(p - b->srcs);
        }
    }
    return MCPAUTH_OK;
}

/* Report a cycle: path[0..depth) is the DFS path, `to` is on it. */
static void role_report_cycle(role_builder *b, const size_t *path, size_t depth,
                              size_t to, const mcpauth_config *at)
{
    char text[512];
    size_t len = 0;
    size_t start = 0;
    while (start < depth && path[start] != to)
        start++;
    text[0] = '\0';
    for (size_t i = start; i < depth && len < sizeof(text); i++) {
        int w = snprintf(text + len, sizeof(text) - len, "%s -> ",
                         b->srcs[path[i]].name);
        len += w > 0 ? (size_t)w : 0;
    }
    if (len < sizeof(text))
        snprintf(text + len, sizeof(text) - len, "%s", b->srcs[to].name);
    b->svc->config_error(at, NULL, "inheritance cycle: %s", text);
}

static mcpauth_status role_dfs(role_builder *b, size_t i, size_t *path,
                               size_t depth)
{
    role_src *s = &b->srcs[i];
    if (s->mark == 2)
        return MCPAUTH_OK;
    s->mark = 1;
    path[depth] = i;
    for (size_t k = 0; k < s->lists[L_INHERITS].n; k++) {
        size_t p = s->parents[k];
        if (b->srcs[p].mark == 1) {
            role_report_cycle(b, path, depth + 1, p,
                              s->lists[L_INHERITS].v[k].node);
            return MCPAUTH_EPOLICY;
        }
        mcpauth_status st = role_dfs(b, p, path, depth + 1);
        if (st != MCPAUTH_OK)
            return st;
    }
    s->mark = 2;
    return MCPAUTH_OK;
}

static mcpauth_status role_check_cycles(role_builder *b)
{
    size_t *path = calloc(b->n ? b->n : 1, sizeof(size_t));
    if (!path)
        return MCPAUTH_ENOMEM;
    mcpauth_status st = MCPAUTH_OK;
    for (size_t i = 0; i < b->n && st == MCPAUTH_OK; i++)
        st = role_dfs(b, i, path, 0);
    free(path);
    return st;
}

/* Mark i and all its ancestors in `seen` (the graph is acyclic by now). */
static void role_ancestors(const role_builder *b, size_t i, unsigned char *seen)
{
    if (seen[i])
        return;
    seen[i] = 1;
    for (size_t k = 0; k < b->srcs[i].lists[L_INHERITS].n; k++)
        role_ancestors(b, b->srcs[i].parents[k], seen);
}

/* Gather list `which` of every role marked in `seen` into one pattern set. */
static int role_gather(const role_builder *b, const unsigned char *seen,
                       int which, const char **scratch, role_patset *out)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (seen[i])
            for (size_t k = 0; k < b->srcs[i].lists[which].n; k++)
                scratch[n++] = b->srcs[i].lists[which].v[k].text;
    return role_patset_build(out, scratch, n);
}

static size_t role_total_patterns(const role_builder *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        for (int k = 0; k < L_COUNT; k++)
            n += b->srcs[i].lists[k].n;
    return n;
}

/* Inherited restrictions only ever tighten: key types intersect and the
 * smallest byte limit wins, just as inherited denies always apply. */
static void role_limits(const role_builder *b, const unsigned char *seen,
                        role_compiled *out)
{
    out->key_types = ROLE_KEY_ANY;
    out->max_bytes = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!seen[i])
            continue;
        const role_src *s = &b->srcs[i];
        if (s->lists[L_KEY_TYPES].n) {
            unsigned mask = 0;
            for (size_t k = 0; k < s->lists[L_KEY_TYPES].n; k++)
                mask |= role_key_type_bit(s->lists[L_KEY_TYPES].v[k].text);
            out->key_types &= mask;
        }
        if (s->max_bytes && (!out->max_bytes || s->max_bytes < out->max_bytes))
            out->max_bytes = s->max_bytes;
    }
}

static int role_compile_one(const role_builder *b, size_t i,
                            unsigned char *seen, const char **scratch,
                            role_compiled *out)
{
    memset(seen, 0, b->n);
    role_ancestors(b, i, seen);
    out->name = strdup(b->srcs[i].name);
    if (!out->name)
        return -1;
    for (int k = 0; k < ROLE_NKINDS; k++) {
        if (role_gather(b, seen, L_METHODS + k, scratch, &out->allow[k]) != 0 ||
            role_gather(b, seen, L_DENY_METHODS + k, scratch, &out->deny[k]) != 0)
            return -1;
    }
    role_limits(b, seen, out);
    return 0;
}

/* Copy every pattern text into one block the compiled sets share, so that
 * a deep inheritance chain costs pointers, not copies, and the config's
 * strings (valid only during create) are no longer referenced. */
static int role_intern(role_builder *b, role_table *t)
{
    size_t bytes = 1;
    for (size_t i = 0; i < b->n; i++)
        for (int k = 0; k < L_COUNT; k++)
            for (size_t j = 0; j < b->srcs[i].lists[k].n; j++)
                bytes += strlen(b->srcs[i].lists[k].v[j].text) + 1;
    t->pool = malloc(bytes);
    if (!t->pool)
        return -1;
    char *at = t->pool;
    for (size_t i = 0; i < b->n; i++)
        for (int k = 0; k < L_COUNT; k++)
            for (size_t j = 0; j < b->srcs[i].lists[k].n; j++) {
                role_item *it = &b->srcs[i].lists[k].v[j];
                size_t len = strlen(it->text) + 1;
                memcpy(at, it->text, len);
                it->text = at;
                at += len;
            }
    return 0;
}

static mcpauth_status role_compile(role_builder *b, role_table *t)
{
    mcpauth_status st = MCPAUTH_ENOMEM;
    if (role_intern(b, t) != 0)
        return st;
    unsigned char *seen = calloc(b->n ? b->n : 1, 1);
    const char **scratch = calloc(role_total_patterns(b) + 1, sizeof(char *));
    t->roles = calloc(b->n ? b->n : 1, sizeof(role_compiled));
    if (!seen || !scratch || !t->roles)
        goto out;
    for (t->nroles = 0; t->nroles < b->n; t->nroles++)
        if (role_compile_one(b, t->nroles, seen, scratch,
                             &t->roles[t->nroles]) != 0) {
            t->nroles++; /* free the partly built one too */
            goto out;
        }
    st = MCPAUTH_OK;
out:
    free(seen);
    free(scratch);
    return st;
}

static void role_builder_free(role_builder *b)
{
    for (size_t i = 0; i < b->n; i++) {
        for (int k = 0; k < L_COUNT; k++)
            free(b->srcs[i].lists[k].v);
        free(b->srcs[i].parents);
    }
    free(b->srcs);
    free(b->read_only.v);
    free(b->device.v);
}

mcpauth_status role_table_build(role_table *t, const mcpauth_services *svc,
                                const mcpauth_config *config)
{
    role_builder b;
    memset(&b, 0, sizeof(b));
    memset(t, 0, sizeof(*t));
    b.svc = svc;
    mcpauth_status st = role_read_tool_defaults(&b, config);
    if (st == MCPAUTH_OK)
        st = role_read_roles(&b, config);
    if (st == MCPAUTH_OK)
        st = role_add_builtins(&b);
    if (st == MCPAUTH_OK)
        st = role_resolve(&b);
    if (st == MCPAUTH_OK)
        st = role_check_cycles(&b);
    if (st == MCPAUTH_OK)
        st = role_compile(&b, t);
    role_builder_free(&b);
    if (st != MCPAUTH_OK)
        role_table_free(t);
    return st;
}

static int role_compiled_key_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const role_compiled *)elem)->name);
}

const role_compiled *role_table_find(const role_table *t, const char *name)
{
    if (!name || !t->nroles)
        return NULL;
    return bsearch(name, t->roles, t->nroles, sizeof(role_compiled),
                   role_compiled_key_cmp);
}

void role_table_free(role_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nroles; i++) {
        free(t->roles[i].name);
        for (int k = 0; k < ROLE_NKINDS; k++) {
            role_patset_free(&t->roles[i].allow[k]);
            role_patset_free(&t->roles[i].deny[k]);
        }
    }
    free(t->roles);
    free(t->pool);
    memset(t, 0, sizeof(*t));
}
