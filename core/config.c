/* config.c: YAML into mcpauth_config nodes, with libyaml's document loader.
 *
 * Aliases are expanded by libyaml into shared nodes; we copy them into a
 * tree with a depth and size budget so that an alias cycle or a "billion
 * laughs" file is an error, not a hang. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 1000000

struct cfg_scratch {
    struct cfg_scratch *next;
};

struct mcpauth_cfgdoc {
    char *file;
    char *dir;  /* where relative paths in this file resolve */
    mcpauth_config *root;
    size_t nodes;
    /* Plugin-raised config errors: first one wins. */
    const char *label;
    mcpauth_error *sink;
    int errored;
    struct cfg_scratch *scratch;
};

static void cfg_node_free(mcpauth_config *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        cfg_node_free(n->items[i]);
        if (n->keys)
            cfg_node_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->seen);
    free(n->scalar);
    free(n);
}

void mcpauth__cfg_scratch_free(mcpauth_cfgdoc *d)
{
    while (d && d->scratch) {
        struct cfg_scratch *s = d->scratch;
        d->scratch = s->next;
        free(s);
    }
}

void mcpauth__cfg_free(mcpauth_cfgdoc *d)
{
    if (!d)
        return;
    cfg_node_free(d->root);
    mcpauth__cfg_scratch_free(d);
    free(d->file);
    free(d->dir);
    free(d);
}

mcpauth_config *mcpauth__cfg_root(mcpauth_cfgdoc *d) { return d->root; }
const char *mcpauth__cfg_file(const mcpauth_cfgdoc *d) { return d->file; }
const char *mcpauth__cfg_dir(const mcpauth_cfgdoc *d) { return d->dir; }

int mcpauth__cfg_set_dir(mcpauth_cfgdoc *d, const char *dir)
{
    char *c = mcpauth__strdup(dir);
    if (!c)
        return -1;
    free(d->dir);
    d->dir = c;
    return 0;
}

static mcpauth_config *cfg_new(mcpauth_cfgdoc *d, mcpauth_config_kind kind,
                               const yaml_mark_t *m)
{
    mcpauth_config *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = m->line + 1;
    n->col = m->column + 1;
    n->doc = d;
    return n;
}

static mcpauth_config *cfg_copy(mcpauth_cfgdoc *d, yaml_document_t *doc,
                                yaml_node_t *y, int depth, mcpauth_error *err);

static int cfg_copy_scalar(mcpauth_config *n, yaml_node_t *y)
{
    n->scalar = malloc(y->data.scalar.length + 1);
    if (!n->scalar)
        return -1;
    memcpy(n->scalar, y->data.scalar.value, y->data.scalar.length);
    n->scalar[y->data.scalar.length] = '\0';
    n->quoted = y->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                y->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return 0;
}

static int cfg_copy_seq(mcpauth_cfgdoc *d, yaml_document_t *doc,
                        mcpauth_config *n, yaml_node_t *y, int depth,
                        mcpauth_error *err)
{
    size_t cnt = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
    n->items = calloc(cnt ? cnt : 1, sizeof(*n->items));
    if (!n->items)
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *c = yaml_document_get_node(doc, y->data.sequence.items.start[i]);
        n->items[i] = cfg_copy(d, doc, c, depth + 1, err);
        if (!n->items[i])
            return -1;
        n->count++;
    }
    return 0;
}

static int cfg_copy_map(mcpauth_cfgdoc *d, yaml_document_t *doc,
                        mcpauth_config *n, yaml_node_t *y, int depth,
                        mcpauth_error *err)
{
    size_t cnt = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
    n->items = calloc(cnt ? cnt : 1, sizeof(*n->items));
    n->keys = calloc(cnt ? cnt : 1, sizeof(*n->keys));
    n->seen = calloc(cnt ? cnt : 1, 1);
    if (!n->items || !n->keys || !n->seen)
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *p = &y->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (!k || k->type != YAML_SCALAR_NODE) {
            mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: map keys must be plain text",
                         d->file, k ? k->start_mark.line + 1 : n->line,
                         k ? k->start_mark.column + 1 : n->col);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            yaml_node_t *o = yaml_document_get_node(doc, y->data.mapping.pairs.start[j].key);
            if (o->data.scalar.length == k->data.scalar.length &&
                !memcmp(o->data.scalar.value, k->data.scalar.value, k->data.scalar.length)) {
                mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: duplicate key '%.*s'",
                             d->file, k->start_mark.line + 1, k->start_mark.column + 1,
                             (int)k->data.scalar.length, (const char *)k->data.scalar.value);
                return -1;
            }
        }
        n->keys[i] = cfg_copy(d, doc, k, depth + 1, err);
        if (!n->keys[i])
            return -1;
        n->items[i] = cfg_copy(d, doc, yaml_document_get_node(doc, p->value), depth + 1, err);
        n->count++;
        if (!n->items[i])
            return -1;
    }
    return 0;
}

static mcpauth_config *cfg_copy(mcpauth_cfgdoc *d, yaml_document_t *doc,
                                yaml_node_t *y, int depth, mcpauth_error *err)
{
    if (!y) {
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s: malformed YAML document", d->file);
        return NULL;
    }
    if (depth > CFG_MAX_DEPTH || ++d->nodes > CFG_MAX_NODES) {
        mcpauth__err(err, MCPAUTH_EPOLICY,
                     "%s:%zu:%zu: document too deep or too large (alias loop?)",
                     d->file, y->start_mark.line + 1, y->start_mark.column + 1);
        return NULL;
    }
    static const mcpauth_config_kind kinds[] = {
        [YAML_SCALAR_NODE] = MCPAUTH_CONFIG_SCALAR,
        [YAML_SEQUENCE_NODE] = MCPAUTH_CONFIG_LIST,
        [YAML_MAPPING_NODE] = MCPAUTH_CONFIG_MAP,
    };
    mcpauth_config *n = cfg_new(d, kinds[y->type], &y->start_mark);
    int rc = -1;
    if (!n)
        goto nomem;
    if (y->type == YAML_SCALAR_NODE)
        rc = cfg_copy_scalar(n, y);
    else if (y->type == YAML_SEQUENCE_NODE)
        rc = cfg_copy_seq(d, doc, n, y, depth, err);
    else
        rc = cfg_copy_map(d, doc, n, y, depth, err);
    if (rc == 0)
        return n;
    cfg_node_free(n);
nomem:
    if (err && err->status == MCPAUTH_OK)
        mcpauth__err(err, MCPAUTH_ENOMEM, "%s: out of memory", d->file);
    return NULL;
}

static void cfg_yaml_error(const yaml_parser_t *p, const char *file,
                           mcpauth_error *err)
{
    const yaml_mark_t *m = &p->problem_mark;
    if (p->context)
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: %s (%s at line %zu)", file,
                     m->line + 1, m->column + 1, p->problem, p->context,
                     p->context_mark.line + 1);
    else
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: %s", file, m->line + 1,
                     m->column + 1, p->problem ? p->problem : "YAML error");
}

static mcpauth_cfgdoc *cfg_load(mcpauth_cfgdoc *d, yaml_parser_t *p,
                                mcpauth_error *err)
{
    yaml_document_t doc;
    if (!yaml_parser_load(p, &doc)) {
        cfg_yaml_error(p, d->file, err);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s:1:1: the file is empty", d->file);
    } else {
        if (err)
            err->status = MCPAUTH_OK;
        d->root = cfg_copy(d, &doc, root, 0, err);
    }
    yaml_document_delete(&doc);
    return d->root ? d : NULL;
}

/* libyaml's scanner slows down quadratically with flow nesting ([[[[...),
 * so a 200 KB file could hold a reload for minutes: refuse deep flow
 * nesting before libyaml sees it. Brackets inside quotes and comments do
 * not count. Returns 0, or -1 with the position of the offending bracket. */
static int cfg_prescan(const char *t, size_t *line, size_t *col)
{
    int depth = 0, comment = 0;
    char quote = 0;
    size_t ln = 1, c = 0;
    for (const char *p = t; *p; p++) {
        c++;
        if (*p == '\n') {
            ln++, c = 0, comment = 0;
        } else if (comment) {
            continue;
        } else if (quote) {
            if (quote == '"' && *p == '\\' && p[1])
                p++, c++;
            else if (*p == quote && !(quote == '\'' && p[1] == '\''))
                quote = 0;
            else if (*p == quote)
                p++, c++;
        } else if (*p == '#' && (p == t || p[-1] == ' ' || p[-1] == '\t')) {
            comment = 1;
        } else if ((*p == '"' || *p == '\'') &&
                   (p == t || strchr(" \t\n[{,:-", p[-1]))) {
            quote = *p;
        } else if (*p == '[' || *p == '{') {
            if (++depth > CFG_MAX_DEPTH) {
                *line = ln, *col = c;
                return -1;
            }
        } else if ((*p == ']' || *p == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

#define CFG_MAX_FILE_BYTES (16u << 20)

/* Read a whole policy file, refusing one that others may change: whoever
 * can write the policy decides who gets in. */
static char *cfg_read_file(const char *file, mcpauth_error *err)
{
    FILE *f = fopen(file, "rb");
    struct stat st;
    char *buf = NULL;
    if (!f) {
        mcpauth__err(err, errno == ENOENT ? MCPAUTH_EPOLICY : MCPAUTH_EIO,
                     "%s: cannot read: %s", file, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s: not a regular file", file);
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        mcpauth__err(err, MCPAUTH_EPERM,
                     "%s: permissions %04o let others change the policy; refusing it "
                     "(chmod go-w)", file, (unsigned)(st.st_mode & 07777));
    } else if ((uint64_t)st.st_size > CFG_MAX_FILE_BYTES) {
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s: larger than 16 MiB; refusing it", file);
    } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    } else {
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        buf[n] = '\0';
        if (ferror(f) || strlen(buf) != n) {
            mcpauth__err(err, MCPAUTH_EPOLICY, "%s: %s", file,
                         ferror(f) ? "read error" : "contains a NUL byte");
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

mcpauth_cfgdoc *mcpauth__cfg_parse(const char *file, const char *text,
                                   mcpauth_error *err)
{
    mcpauth_cfgdoc *d = calloc(1, sizeof(*d));
    char *owned = NULL;
    yaml_parser_t p;
    int have_parser = 0;
    size_t line, col;
    if (!d || !(d->file = mcpauth__strdup(file ? file : "<string>")))
        goto nomem;
    if (!(d->dir = text ? mcpauth__strdup(".") : mcpauth__dirname(file)))
        goto nomem;
    if (!text && !(text = owned = cfg_read_file(file, err)))
        goto fail;
    if (cfg_prescan(text, &line, &col) != 0) {
        mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: brackets nested deeper than %d levels",
                     d->file, line, col, CFG_MAX_DEPTH);
        goto fail;
    }
    if (!yaml_parser_initialize(&p))
        goto nomem;
    have_parser = 1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    if (!cfg_load(d, &p, err))
        goto fail;
    yaml_parser_delete(&p);
    free(owned);
    return d;
nomem:
    mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
fail:
    if (have_parser)
        yaml_parser_delete(&p);
    free(owned);
    mcpauth__cfg_free(d);
    return NULL;
}

mcpauth_config *mcpauth__cfg_get(const mcpauth_config *map, const char *key)
{
    if (!map || map->kind != MCPAUTH_CONFIG_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++) {
        if (!strcmp(map->keys[i]->scalar, key)) {
            map->seen[i] = 1;
            return map->items[i];
        }
    }
    return NULL;
}

int mcpauth__cfg_unread(const mcpauth_config *n, const char *what,
                        mcpauth_error *err)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n->count; i++) {
        if (n->kind == MCPAUTH_CONFIG_MAP && !n->seen[i]) {
            const mcpauth_config *k = n->keys[i];
            mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: %s: unknown key '%s'",
                         n->doc->file, k->line, k->col, what, k->scalar);
            return 1;
        }
        if (mcpauth__cfg_unread(n->items[i], what, err))
            return 1;
    }
    return 0;
}

int mcpauth__cfg_unread_shallow(const mcpauth_config *n, const char *what,
                                mcpauth_error *err)
{
    for (size_t i = 0; n && n->kind == MCPAUTH_CONFIG_MAP && i < n->count; i++) {
        if (!n->seen[i]) {
            const mcpauth_config *k = n->keys[i];
            mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: %s: unknown key '%s'",
                         n->doc->file, k->line, k->col, what, k->scalar);
            return 1;
        }
    }
    return 0;
}

void mcpauth__cfg_mark_all(mcpauth_config *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        if (n->kind == MCPAUTH_CONFIG_MAP)
            n->seen[i] = 1;
        mcpauth__cfg_mark_all(n->items[i]);
    }
}

void mcpauth__cfg_set_error(mcpauth_cfgdoc *d, const char *label,
                            mcpauth_error *sink)
{
    d->label = label;
    d->sink = sink;
    d->errored = 0;
}

int mcpauth__cfg_has_error(const mcpauth_cfgdoc *d) { return d->errored; }

/* ---- the accessors plugins call (services table) ---- */

static void cfg_raise(const mcpauth_config *c, const char *key, const char *fmt,
                      va_list ap)
{
    mcpauth_cfgdoc *d = c->doc;
    if (d->errored || !d->sink)
        return;
    const mcpauth_config *at = c;
    if (key) {
        for (size_t i = 0; c->kind == MCPAUTH_CONFIG_MAP && i < c->count; i++)
            if (!strcmp(c->keys[i]->scalar, key))
                at = c->items[i];
    }
    char msg[768];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    mcpauth__err(d->sink, MCPAUTH_EPOLICY, "%s:%zu:%zu: %s: %s%s%s", d->file,
                 at->line, at->col, d->label ? d->label : "config",
                 key ? key : "", key ? ": " : "", msg);
    d->errored = 1;
}

static void svc_config_error(const mcpauth_config *c, const char *key,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c)
        cfg_raise(c, key, fmt, ap);
    va_end(ap);
}

static void cfg_type_error(const mcpauth_config *c, const char *key,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_raise(c, key, fmt, ap);
    va_end(ap);
}

static mcpauth_status svc_config_node(const mcpauth_config *c, const char *key,
                                      const mcpauth_config **out)
{
    mcpauth_config *v = mcpauth__cfg_get(c, key);
    if (!v)
        return MCPAUTH_ENOTFOUND;
    *out = v;
    return MCPAUTH_OK;
}

static const mcpauth_config *cfg_scalar_at(const mcpauth_config *c, const char *key,
                                           mcpauth_status *st)
{
    mcpauth_config *v = mcpauth__cfg_get(c, key);
    *st = MCPAUTH_OK;
    if (!v) {
        *st = MCPAUTH_ENOTFOUND;
        return NULL;
    }
    if (v->kind != MCPAUTH_CONFIG_SCALAR) {
        cfg_type_error(c, key, "'%s' must be a single value, not a %s", key,
                       v->kind == MCPAUTH_CONFIG_LIST ? "list" : "map");
        *st = MCPAUTH_ETYPE;
        return NULL;
    }
    return v;
}

static mcpauth_status svc_config_string(const mcpauth_config *c, const char *key,
                                        const char **out)
{
    mcpauth_status st;
    const mcpauth_config *v = cfg_scalar_at(c, key, &st);
    if (v)
        *out = v->scalar;
    return st;
}

static mcpauth_status svc_config_int(const mcpauth_config *c, const char *key,
                                     int64_t *out)
{
    mcpauth_status st;
    const mcpauth_config *v = cfg_scalar_at(c, key, &st);
    if (!v)
        return st;
    char *end;
    errno = 0;
    long long x = strtoll(v->scalar, &end, 10);
    if (v->quoted || !v->scalar[0] || *end || errno) {
        cfg_type_error(c, key, "'%s' must be an integer, got '%s'", key, v->scalar);
        return MCPAUTH_ETYPE;
    }
    *out = x;
    return MCPAUTH_OK;
}

static mcpauth_status svc_config_bool(const mcpauth_config *c, const char *key,
                                      int *out)
{
    mcpauth_status st;
    const mcpauth_config *v = cfg_scalar_at(c, key, &st);
    if (!v)
        return st;
    if (!v->quoted && !strcmp(v->scalar, "true"))
        *out = 1;
    else if (!v->quoted && !strcmp(v->scalar, "false"))
        *out = 0;
    else {
        cfg_type_error(c, key, "'%s' must be true or false, got '%s'", key, v->scalar);
        return MCPAUTH_ETYPE;
    }
    return MCPAUTH_OK;
}

static mcpauth_status svc_config_duration(const mcpauth_config *c, const char *key,
                                          int64_t *out)
{
    mcpauth_status st;
    const mcpauth_config *v = cfg_scalar_at(c, key, &st);
    if (!v)
        return st;
    if (mcpauth_parse_duration_ms(v->scalar, out) != MCPAUTH_OK) {
        cfg_type_error(c, key,
                       "'%s' must be a duration such as 500ms, 30s, 15m, 24h or 90d, got '%s'",
                       key, v->scalar);
        return MCPAUTH_ETYPE;
    }
    return MCPAUTH_OK;
}

static mcpauth_config_kind svc_config_kind(const mcpauth_config *c) { return c->kind; }

static size_t svc_config_count(const mcpauth_config *c)
{
    return c->kind == MCPAUTH_CONFIG_SCALAR ? 0 : c->count;
}

static const mcpauth_config *svc_config_item(const mcpauth_config *c, size_t i)
{
    return c->kind == MCPAUTH_CONFIG_LIST && i < c->count ? c->items[i] : NULL;
}

static const mcpauth_config *svc_config_entry(const mcpauth_config *c, size_t i,
                                              const char **key)
{
    if (c->kind != MCPAUTH_CONFIG_MAP || i >= c->count)
        return NULL;
    c->seen[i] = 1;
    if (key)
        *key = c->keys[i]->scalar;
    return c->items[i];
}

static const char *svc_config_scalar(const mcpauth_config *c)
{
    return c->kind == MCPAUTH_CONFIG_SCALAR ? c->scalar : NULL;
}

/* Scratch memory that lives until create returns. */
static void *cfg_scratch(mcpauth_cfgdoc *d, size_t bytes)
{
    struct cfg_scratch *s = malloc(sizeof(*s) + bytes);
    if (!s)
        return NULL;
    s->next = d->scratch;
    d->scratch = s;
    return s + 1;
}

/* The string items under `key` as nodes, NULL-terminated: the one reader
 * behind config_strings and config_string_nodes. */
static mcpauth_status cfg_string_items(const mcpauth_config *c, const char *key,
                                       const mcpauth_config ***out, size_t *n)
{
    mcpauth_config *v = mcpauth__cfg_get(c, key);
    if (!v)
        return MCPAUTH_ENOTFOUND;
    if (v->kind == MCPAUTH_CONFIG_MAP) {
        cfg_type_error(c, key, "'%s' must be a list of strings, not a map", key);
        return MCPAUTH_ETYPE;
    }
    int empty = v->kind == MCPAUTH_CONFIG_SCALAR && !v->quoted && !v->scalar[0];
    size_t cnt = empty ? 0 : v->kind == MCPAUTH_CONFIG_SCALAR ? 1 : v->count;
    const mcpauth_config **arr = cfg_scratch(c->doc, (cnt + 1) * sizeof(*arr));
    if (!arr)
        return MCPAUTH_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const mcpauth_config *it = v->kind == MCPAUTH_CONFIG_SCALAR ? v : v->items[i];
        if (it->kind != MCPAUTH_CONFIG_SCALAR) {
            cfg_type_error(it, NULL, "'%s' items must be strings", key);
            return MCPAUTH_ETYPE;
        }
        arr[i] = it;
    }
    arr[cnt] = NULL;
    *out = arr;
    if (n)
        *n = cnt;
    return MCPAUTH_OK;
}

static mcpauth_status svc_config_string_nodes(const mcpauth_config *c, const char *key,
                                              const mcpauth_config *const **out,
                                              size_t *n)
{
    const mcpauth_config **items;
    mcpauth_status st = cfg_string_items(c, key, &items, n);
    if (st == MCPAUTH_OK)
        *out = items;
    return st;
}

static mcpauth_status svc_config_strings(const mcpauth_config *c, const char *key,
                                         const char *const **out, size_t *n)
{
    const mcpauth_config **items;
    size_t cnt;
    mcpauth_status st = cfg_string_items(c, key, &items, &cnt);
    if (st != MCPAUTH_OK)
        return st;
    const char **arr = cfg_scratch(c->doc, (cnt + 1) * sizeof(*arr));
    if (!arr)
        return MCPAUTH_ENOMEM;
    for (size_t i = 0; i < cnt; i++)
        arr[i] = items[i]->scalar;
    arr[cnt] = NULL;
    *out = arr;
    if (n)
        *n = cnt;
    return MCPAUTH_OK;
}

/* Expand ${NAME} and ${NAME:-default} from the environment, so that one
 * policy can serve hosts whose state lives in different places
 * (systemd's StateDirectory, the demo's scratch directory). */
static char *expand_env(const mcpauth_config *c, const char *in)
{
    size_t cap = strlen(in) + 256, len = 0;
    char *out = malloc(cap);
    for (const char *p = in; out && *p;) {
        const char *val = NULL, *next = p + 1;
        size_t vlen = 1;
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p, '}');
            const char *dflt = strstr(p, ":-");
            if (!end) {
                svc_config_error(c, NULL, "path '%s': '${' without a closing '}'", in);
                goto fail;
            }
            size_t nlen = (size_t)((dflt && dflt < end ? dflt : end) - (p + 2));
            char name[128];
            if (nlen == 0 || nlen >= sizeof(name)) {
                svc_config_error(c, NULL, "path '%s': bad variable name", in);
                goto fail;
            }
            memcpy(name, p + 2, nlen);
            name[nlen] = '\0';
            val = getenv(name);
            if ((!val || !*val) && dflt && dflt < end) {
                val = dflt + 2;
                vlen = (size_t)(end - val);
            } else if (!val || !*val) {
                svc_config_error(c, NULL, "path '%s': environment variable %s is not set",
                                 in, name);
                goto fail;
            } else {
                vlen = strlen(val);
            }
            next = end + 1;
        } else {
            val = p;
        }
        if (len + vlen + 1 > cap) {
            cap = (len + vlen + 1) * 2;
            char *n = realloc(out, cap);
            if (!n)
                goto fail;
            out = n;
        }
        memcpy(out + len, val, vlen);
        len += vlen;
        p = next;
    }
    if (out)
        out[len] = '\0';
    return out;
fail:
    free(out);
    return NULL;
}

static mcpauth_status svc_config_path(const mcpauth_config *c, const char *path,
                                      char *out, size_t cap)
{
    char *expanded = expand_env(c, path);
    if (!expanded)
        return MCPAUTH_EINVAL;
    char *full = mcpauth__path_join(c->doc->dir, expanded);
    mcpauth_status st = MCPAUTH_ENOMEM;
    if (full)
        st = mcpauth__strlcpy(out, full, cap) < cap ? MCPAUTH_OK : MCPAUTH_ERANGE;
    free(full);
    free(expanded);
    return st;
}

/* Context services live in stack.c; declared here to fill the table. */
const mcpauth_principal *mcpauth__ctx_principal(mcpauth_ctx *ctx);
mcpauth_status mcpauth__ctx_set_principal(mcpauth_ctx *ctx, const mcpauth_principal *p,
                                          void (*release)(void *), void *arg);
int mcpauth__ctx_dry_run(mcpauth_ctx *ctx);
mcpauth_status mcpauth__ctx_client_addr(mcpauth_ctx *ctx, mcpauth_addr *out);
void mcpauth__svc_log(void *core, mcpauth_log_level level, const char *fmt, ...);
void mcpauth__svc_emit(void *core, const mcpauth_event *ev);

const mcpauth_services mcpauth__services = {
    .abi_version = MCPAUTH_PLUGIN_ABI_VERSION,
    .size = sizeof(mcpauth_services),
    .config_string = svc_config_string,
    .config_int = svc_config_int,
    .config_bool = svc_config_bool,
    .config_duration_ms = svc_config_duration,
    .config_node = svc_config_node,
    .config_kind = svc_config_kind,
    .config_count = svc_config_count,
    .config_item = svc_config_item,
    .config_entry = svc_config_entry,
    .config_scalar = svc_config_scalar,
    .config_strings = svc_config_strings,
    .config_error = svc_config_error,
    .config_path = svc_config_path,
    .principal = mcpauth__ctx_principal,
    .set_principal = mcpauth__ctx_set_principal,
    .dry_run = mcpauth__ctx_dry_run,
    .log = mcpauth__svc_log,
    .emit = mcpauth__svc_emit,
    .monotonic_ns = mcpauth__mono_ns,
    .config_string_nodes = svc_config_string_nodes,
    .client_addr = mcpauth__ctx_client_addr,
};
