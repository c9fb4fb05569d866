/* audit_parse.c: see audit_parse.h. */
#include "audit_parse.h"

#include <stdint.h>
#include <string.h>

#include "audit_line.h"
#include "mcpauth/mcpauth.h"

typedef struct jparse {
    const char *p;
    const char *end;
    char *arena;      /* decoded strings go here, each NUL-terminated */
} jparse;

/* A JSON value as the record parser sees it. */
typedef struct jvalue {
    enum { JV_STRING, JV_INT, JV_BOOL, JV_NULL } kind;
    const char *str;
    int64_t num;
} jvalue;

static void skip_ws(jparse *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(jparse *j, uint32_t cp)
{
    char *o = j->arena;
    if (cp < 0x80) { *o++ = (char)cp; }
    else if (cp < 0x800) { *o++ = (char)(0xc0 | (cp >> 6)); *o++ = (char)(0x80 | (cp & 0x3f)); }
    else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    j->arena = o;
}

/* \uXXXX (after the backslash and 'u'), with a surrogate pair; lone
 * surrogates decode to U+FFFD. */
static int parse_u_escape(jparse *j)
{
    uint32_t cp, lo;
    if (j->end - j->p < 4 || hex4(j->p, &cp))
        return -1;
    j->p += 4;
    if (cp >= 0xd800 && cp <= 0xdbff && j->end - j->p >= 6 &&
        j->p[0] == '\\' && j->p[1] == 'u' && !hex4(j->p + 2, &lo) &&
        lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        j->p += 6;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
        cp = 0xfffd;
    }
    put_utf8(j, cp);
    return 0;
}

static int parse_escape(jparse *j)
{
    if (j->p >= j->end)
        return -1;
    char c = *j->p++;
    switch (c) {
    case '"': case '\\': case '/': *j->arena++ = c; return 0;
    case 'n': *j->arena++ = '\n'; return 0;
    case 't': *j->arena++ = '\t'; return 0;
    case 'r': *j->arena++ = '\r'; return 0;
    case 'b': *j->arena++ = '\b'; return 0;
    case 'f': *j->arena++ = '\f'; return 0;
    case 'u': return parse_u_escape(j);
    default: return -1;
    }
}

/* A string literal at j->p, decoded into the arena; *out points at it. */
static int parse_string(jparse *j, const char **out)
{
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    *out = j->arena;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            j->p++;
            if (parse_escape(j))
                return -1;
            continue;
        }
        *j->arena++ = (char)c;
        j->p++;
    }
    if (j->p >= j->end)
        return -1;
    j->p++;
    *j->arena++ = '\0';
    return 0;
}

static int parse_int(jparse *j, int64_t *out)
{
    int neg = 0;
    if (j->p < j->end && *j->p == '-') {
        neg = 1;
        j->p++;
    }
    const char *start = j->p;
    uint64_t v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (v > (uint64_t)INT64_MAX / 10)
            return -1;
        v = v * 10 + (uint64_t)(*j->p++ - '0');
    }
    if (j->p == start || v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

static int parse_word(jparse *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

static int parse_value(jparse *j, jvalue *v)
{
    if (j->p >= j->end)
        return -1;
    char c = *j->p;
    v->str = NULL;
    v->num = 0;
    if (c == '"') { v->kind = JV_STRING; return parse_string(j, &v->str); }
    if (c == 't') { v->kind = JV_BOOL; v->num = 1; return parse_word(j, "true"); }
    if (c == 'f') { v->kind = JV_BOOL; return parse_word(j, "false"); }
    if (c == 'n') { v->kind = JV_NULL; return parse_word(j, "null"); }
    v->kind = JV_INT;
    return parse_int(j, &v->num);
}

/* The string fields of a record, by key. */
static const char **string_slot(mcpauth_audit_record *r, const char *key)
{
    static const struct { const char *key; size_t off; } map[] = {
#define F(name) { #name, offsetof(mcpauth_audit_record, name) }
        F(time), F(event), F(reason), F(plugin), F(key_id), F(key_name),
        F(role), F(client_ip), F(method), F(tool), F(resource),
        F(transport), F(detail), F(prev), F(hash),
#undef F
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i].key, key))
            return (const char **)(void *)((char *)r + map[i].off);
    return NULL;
}

/* Store one key/value into the record. Unknown keys are ignored (newer
 * writers may add fields; the hash still covers them). */
static const char *assign(mcpauth_audit_record *r, const char *key,
                          const jvalue *v, unsigned *seen)
{
    const char **slot = string_slot(r, key);
    if (slot) {
        if (v->kind != JV_STRING && v->kind != JV_NULL)
            return "a text field holds a non-string value";
        *slot = v->str;
        return NULL;
    }
    if (!strcmp(key, "seq")) { r->seq = (uint64_t)v->num; *seen |= 1; }
    else if (!strcmp(key, "allowed")) {
        if (v->kind != JV_BOOL)
            return "allowed is not a boolean";
        r->allowed = (int)v->num;
        *seen |= 2;
        return NULL;
    }
    else if (!strcmp(key, "http_status")) r->http_status = (int)v->num;
    else if (!strcmp(key, "bytes")) r->bytes = (uint64_t)v->num;
    else if (!strcmp(key, "latency_ns")) r->latency_ns = (uint64_t)v->num;
    else return NULL;
    if (v->kind != JV_INT || v->num < 0)
        return "a number field holds something else";
    return NULL;
}

/* Keys already seen in this object: a duplicate could make two readers
 * disagree about a field, so it is rejected. */
static int duplicate_key(const char **keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i], key))
            return 1;
    return 0;
}

static const char *parse_members(jparse *j, mcpauth_audit_record *rec,
                                 unsigned *seen)
{
    const char *keys[64];
    size_t nkeys = 0;
    for (;;) {
        const char *key, *why;
        jvalue v;
        skip_ws(j);
        if (parse_string(j, &key))
            return "bad key";
        skip_ws(j);
        if (j->p >= j->end || *j->p++ != ':')
            return "missing ':'";
        skip_ws(j);
        if (parse_value(j, &v))
            return "bad value";
        if (nkeys == 64 || duplicate_key(keys, nkeys, key))
            return "duplicate or too many keys";
        keys[nkeys++] = key;
        if ((why = assign(rec, key, &v, seen)) != NULL)
            return why;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return NULL;
        }
        return "missing ',' or '}'";
    }
}

static const char *check_required(mcpauth_audit_record *rec, unsigned seen)
{
    if (!(seen & 1) || !rec->time || !rec->event || !rec->prev || !rec->hash)
        return "a required field (seq, time, event, prev, hash) is missing";
    if (strlen(rec->prev) != MCPAUTH__AUDIT_HASH_HEX ||
        strlen(rec->hash) != MCPAUTH__AUDIT_HASH_HEX)
        return "prev or hash is not 64 hex digits";
    if (mcpauth_parse_time_ms(rec->time, &rec->time_ms) != MCPAUTH_OK)
        return "time is not an RFC 3339 time";
    rec->is_decision = !strcmp(rec->event, "decision");
    if (rec->is_decision && !(seen & 2))
        return "a decision without 'allowed'";
    return NULL;
}

const char *mcpauth__audit_parse(const char *line, size_t len, char *arena,
                                 mcpauth_audit_record *rec)
{
    jparse j = { line, line + len, arena };
    unsigned seen = 0;
    memset(rec, 0, sizeof(*rec));
    skip_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return "not a JSON object";
    const char *why = parse_members(&j, rec, &seen);
    if (why)
        return why;
    skip_ws(&j);
    if (j.p != j.end)
        return "text after the object";
    return check_required(rec, seen);
}
