/* policy.c: the policy file format, version 1 (docs/policy.md). */
#include "policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_INCLUDE_DEPTH 16
#define POLICY_MAX_ENTRIES 1024

static const char *const control_names[] = { "required", "requisite",
                                             "sufficient", "optional" };

int mcpauth__control_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, control_names[i]))
            return i;
    return -1;
}

const char *mcpauth_control_name(mcpauth_control c)
{
    return (unsigned)c < 4 ? control_names[c] : "unknown";
}

void mcpauth__policy_free(mcpauth_policy_spec *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i].label);
        free(p->entries[i].plugin);
    }
    free(p->entries);
    for (size_t i = 0; i < p->ndirs; i++)
        free(p->plugin_dirs[i]);
    free(p->plugin_dirs);
    for (size_t i = 0; i < p->ndocs; i++)
        mcpauth__cfg_free(p->docs[i]);
    free(p->docs);
    if (p->empty) {
        free(p->empty->items);
        free(p->empty);
    }
    free(p);
}

/* Reading state: the include chain for cycle detection. */
typedef struct policy_reader {
    mcpauth_policy_spec *spec;
    char *chain[POLICY_MAX_INCLUDE_DEPTH];
    int depth;
    mcpauth_error *err;
} policy_reader;

static mcpauth_status at_err(policy_reader *r, const mcpauth_config *n,
                             const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, a, b);
    return mcpauth__err(r->err, MCPAUTH_EPOLICY, "%s:%zu:%zu: %s",
                        mcpauth__cfg_file(n->doc), n->line, n->col, msg);
}

static const mcpauth_config *want(policy_reader *r, const mcpauth_config *map,
                                  const char *key, mcpauth_config_kind kind,
                                  mcpauth_status *st)
{
    static const char *const kind_names[] = { "a single value", "a list", "a map" };
    const mcpauth_config *v = mcpauth__cfg_get(map, key);
    *st = MCPAUTH_OK;
    if (v && v->kind != kind)
        *st = at_err(r, v, "'%s' must be %s", key, kind_names[kind]);
    return *st ? NULL : v;
}

static mcpauth_status add_doc(mcpauth_policy_spec *s, mcpauth_cfgdoc *d)
{
    mcpauth_cfgdoc **n = realloc(s->docs, (s->ndocs + 1) * sizeof(*n));
    if (!n)
        return MCPAUTH_ENOMEM;
    s->docs = n;
    s->docs[s->ndocs++] = d;
    return MCPAUTH_OK;
}

static mcpauth_status read_stack(policy_reader *r, const mcpauth_config *stack);

static mcpauth_status read_include(policy_reader *r, const mcpauth_config *v)
{
    char *path = mcpauth__path_join(mcpauth__cfg_dir(v->doc), v->scalar);
    char *real = path ? realpath(path, NULL) : NULL;
    mcpauth_status st = MCPAUTH_OK;
    if (!real) {
        st = at_err(r, v, "include '%s': cannot read: %s", v->scalar, strerror(errno));
        goto out;
    }
    for (int i = 0; i < r->depth; i++)
        if (!strcmp(r->chain[i], real)) {
            st = at_err(r, v, "include cycle: '%s' includes itself (via %s)",
                        v->scalar, r->chain[r->depth - 1]);
            goto out;
        }
    if (r->depth >= POLICY_MAX_INCLUDE_DEPTH) {
        st = at_err(r, v, "includes nested deeper than %s levels at '%s'", "16", v->scalar);
        goto out;
    }
    mcpauth_cfgdoc *d = mcpauth__cfg_parse(path, NULL, r->err);
    if (!d || add_doc(r->spec, d) != MCPAUTH_OK) {
        mcpauth__cfg_free(d);
        st = r->err && r->err->status ? r->err->status : MCPAUTH_ENOMEM;
        goto out;
    }
    const mcpauth_config *root = mcpauth__cfg_root(d);
    if (root->kind != MCPAUTH_CONFIG_MAP) {
        st = at_err(r, root, "an included file must be a map with a 'stack' list%s%s", "", "");
        goto out;
    }
    mcpauth__cfg_get(root, "version");
    const mcpauth_config *stack = want(r, root, "stack", MCPAUTH_CONFIG_LIST, &st);
    if (st)
        goto out;
    if (!stack) {
        st = at_err(r, root, "an included file needs a 'stack' list%s%s", "", "");
        goto out;
    }
    if (mcpauth__cfg_unread_shallow(root, "included policy", r->err)) {
        st = MCPAUTH_EPOLICY;
        goto out;
    }
    r->chain[r->depth++] = real;
    real = NULL;
    st = read_stack(r, stack);
    free(r->chain[--r->depth]);
out:
    free(path);
    free(real);
    return st;
}

static mcpauth_status entry_label(policy_reader *r, const mcpauth_config *e,
                                  const mcpauth_config *plugin, char **out)
{
    mcpauth_status st;
    const mcpauth_config *name = want(r, e, "name", MCPAUTH_CONFIG_SCALAR, &st);
    if (st)
        return st;
    const char *l = name ? name->scalar : plugin->scalar;
    size_t len = strlen(l);
    if (!name) {
        /* A path's label is its file name without mcpauth_ and .so. */
        const char *slash = strrchr(l, '/');
        l = slash ? slash + 1 : l;
        if (!strncmp(l, "mcpauth_", 8) && strlen(l) > 8)
            l += 8;
        len = strlen(l);
        if (len > 3 && !strcmp(l + len - 3, ".so"))
            len -= 3;
    }
    if (!len || len >= MCPAUTH_LABEL_MAX)
        return at_err(r, name ? name : plugin, "a label must be 1 to 63 characters%s%s", "", "");
    *out = strndup(l, len);
    return *out ? MCPAUTH_OK : MCPAUTH_ENOMEM;
}

static mcpauth_status read_entry(policy_reader *r, const mcpauth_config *e)
{
    mcpauth_status st;
    mcpauth_policy_spec *s = r->spec;
    if (e->kind != MCPAUTH_CONFIG_MAP)
        return at_err(r, e, "a stack entry must be a map with 'plugin' or 'include'%s%s", "", "");
    const mcpauth_config *inc = want(r, e, "include", MCPAUTH_CONFIG_SCALAR, &st);
    const mcpauth_config *plugin = st ? NULL : want(r, e, "plugin", MCPAUTH_CONFIG_SCALAR, &st);
    if (st)
        return st;
    if (inc && plugin)
        return at_err(r, e, "an entry has either 'plugin' or 'include', not both%s%s", "", "");
    if (inc) {
        if (mcpauth__cfg_unread(e, "include entry", r->err))
            return MCPAUTH_EPOLICY;
        return read_include(r, inc);
    }
    if (!plugin)
        return at_err(r, e, "a stack entry needs 'plugin' (a name or a path) or 'include'%s%s", "", "");
    const mcpauth_config *control = want(r, e, "control", MCPAUTH_CONFIG_SCALAR, &st);
    if (st)
        return st;
    if (!control)
        return at_err(r, e, "entry '%s' needs 'control' (required, requisite, sufficient or optional)%s",
                      plugin->scalar, "");
    int c = mcpauth__control_parse(control->scalar);
    if (c < 0)
        return at_err(r, control, "unknown control flag '%s' (use required, requisite, sufficient or optional)%s",
                      control->scalar, "");
    const mcpauth_config *config = want(r, e, "config", MCPAUTH_CONFIG_MAP, &st);
    if (st)
        return st;
    if (s->n >= POLICY_MAX_ENTRIES)
        return at_err(r, e, "more than %s stack entries%s", "1024", "");
    mcpauth_entry_spec *ne = realloc(s->entries, (s->n + 1) * sizeof(*ne));
    if (!ne)
        return MCPAUTH_ENOMEM;
    s->entries = ne;
    mcpauth_entry_spec *es = &s->entries[s->n];
    memset(es, 0, sizeof(*es));
    if ((st = entry_label(r, e, plugin, &es->label)) != MCPAUTH_OK)
        return st;
    s->n++;
    es->control = (mcpauth_control)c;
    es->plugin = mcpauth__strdup(plugin->scalar);
    es->config = config ? config : s->empty;
    es->at = plugin;
    es->doc = e->doc;
    if (!es->plugin)
        return MCPAUTH_ENOMEM;
    /* Keys inside config are the plugin's to judge (after its create);
     * the entry's own keys are ours. */
    return mcpauth__cfg_unread_shallow(e, "stack entry", r->err) ? MCPAUTH_EPOLICY : MCPAUTH_OK;
}

static mcpauth_status read_stack(policy_reader *r, const mcpauth_config *stack)
{
    for (size_t i = 0; i < stack->count; i++) {
        mcpauth_status st = read_entry(r, stack->items[i]);
        if (st)
            return st;
    }
    return MCPAUTH_OK;
}

static mcpauth_status read_dirs(policy_reader *r, const mcpauth_config *root)
{
    mcpauth_status st;
    const mcpauth_config *dirs = want(r, root, "plugin_dirs", MCPAUTH_CONFIG_LIST, &st);
    if (st || !dirs)
        return st;
    mcpauth_policy_spec *s = r->spec;
    s->plugin_dirs = calloc(dirs->count + 1, sizeof(char *));
    if (!s->plugin_dirs)
        return MCPAUTH_ENOMEM;
    for (size_t i = 0; i < dirs->count; i++) {
        const mcpauth_config *d = dirs->items[i];
        if (d->kind != MCPAUTH_CONFIG_SCALAR || !d->scalar[0])
            return at_err(r, d, "plugin_dirs entries must be directory paths%s%s", "", "");
        s->plugin_dirs[i] = mcpauth__path_join(mcpauth__cfg_dir(d->doc), d->scalar);
        if (!s->plugin_dirs[i])
            return MCPAUTH_ENOMEM;
        s->ndirs++;
    }
    return MCPAUTH_OK;
}

static mcpauth_status read_limits(policy_reader *r, const mcpauth_config *root)
{
    mcpauth_status st;
    const mcpauth_config *lim = want(r, root, "limits", MCPAUTH_CONFIG_MAP, &st);
    if (st || !lim)
        return st;
    const mcpauth_config *m = want(r, lim, "max_request_bytes", MCPAUTH_CONFIG_SCALAR, &st);
    if (st)
        return st;
    if (m) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(m->scalar, &end, 10);
        if (m->quoted || !m->scalar[0] || *end || errno || v == 0 || m->scalar[0] == '-')
            return at_err(r, m, "max_request_bytes must be a positive integer, got '%s'%s",
                          m->scalar, "");
        r->spec->max_request_bytes = v;
    }
    return mcpauth__cfg_unread(lim, "limits", r->err) ? MCPAUTH_EPOLICY : MCPAUTH_OK;
}

static mcpauth_status read_version(policy_reader *r, const mcpauth_config *root)
{
    mcpauth_status st;
    const mcpauth_config *v = want(r, root, "version", MCPAUTH_CONFIG_SCALAR, &st);
    if (st)
        return st;
    if (!v)
        return at_err(r, root, "the policy needs 'version: 1'%s%s", "", "");
    if (strcmp(v->scalar, "1"))
        return at_err(r, v, "unsupported policy version '%s' (this library reads version 1)%s",
                      v->scalar, "");
    return MCPAUTH_OK;
}

static mcpauth_status read_root(policy_reader *r, const mcpauth_config *root)
{
    mcpauth_status st;
    if (root->kind != MCPAUTH_CONFIG_MAP)
        return at_err(r, root, "a policy must be a map with 'version' and 'stack'%s%s", "", "");
    if ((st = read_version(r, root)) || (st = read_dirs(r, root)) ||
        (st = read_limits(r, root)))
        return st;
    const mcpauth_config *stack = want(r, root, "stack", MCPAUTH_CONFIG_LIST, &st);
    if (st)
        return st;
    if (!stack)
        return at_err(r, root, "the policy needs a 'stack' list%s%s", "", "");
    /* Top-level keys are checked before the stack so that a typo such as
     * `limit:` is reported as such rather than as a later problem. */
    if (mcpauth__cfg_unread_shallow(root, "policy", r->err))
        return MCPAUTH_EPOLICY;
    return read_stack(r, stack);
}

mcpauth_status mcpauth__policy_parse(const char *path, const char *yaml,
                                     const char *base_dir,
                                     mcpauth_policy_spec **out,
                                     mcpauth_error *err)
{
    policy_reader r = { .err = err };
    mcpauth_status st = MCPAUTH_ENOMEM;
    mcpauth_cfgdoc *d = NULL;
    *out = NULL;
    if (!(r.spec = calloc(1, sizeof(*r.spec))) ||
        !(r.spec->empty = calloc(1, sizeof(mcpauth_config))))
        goto fail;
    r.spec->empty->kind = MCPAUTH_CONFIG_MAP;
    if (!(d = mcpauth__cfg_parse(path ? path : "<string>", path ? NULL : yaml, err))) {
        st = err && err->status ? err->status : MCPAUTH_EPOLICY;
        goto fail;
    }
    if (!path && base_dir && mcpauth__cfg_set_dir(d, base_dir) != 0)
        goto fail;
    if (add_doc(r.spec, d) != MCPAUTH_OK)
        goto fail;
    r.spec->empty->doc = d;
    d = NULL;
    if (path && (r.chain[0] = realpath(path, NULL)) != NULL)
        r.depth = 1;
    st = read_root(&r, mcpauth__cfg_root(r.spec->docs[0]));
    while (r.depth > 0)
        free(r.chain[--r.depth]);
    if (st)
        goto fail;
    *out = r.spec;
    return MCPAUTH_OK;
fail:
    if (st == MCPAUTH_ENOMEM)
        mcpauth__err(err, st, "out of memory reading the policy");
    mcpauth__cfg_free(d);
    mcpauth__policy_free(r.spec);
    return st;
}
