/* audit_line.c: see audit_line.h. No dependency on the rest of the core, so
 * that the audit-file plugin can compile this file into itself. */
#include "audit_line.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const char mcpauth__audit_genesis[MCPAUTH__AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void mcpauth__abuf_init(mcpauth__abuf *b, char *storage, size_t cap)
{
    b->p = storage;
    b->len = 0;
    b->cap = cap;
    b->heap = 0;
    b->oom = 0;
}

void mcpauth__abuf_free(mcpauth__abuf *b)
{
    if (b->heap)
        free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->heap = 0;
}

/* Make room for n more bytes; on failure mark the buffer and return -1. */
static int abuf_reserve(mcpauth__abuf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap - b->len < n)
        cap *= 2;
    char *p = b->heap ? realloc(b->p, cap) : malloc(cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    if (!b->heap && b->len)
        memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
    b->heap = 1;
    return 0;
}

void mcpauth__abuf_put(mcpauth__abuf *b, const void *data, size_t n)
{
    if (n == 0 || abuf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void mcpauth__abuf_puts(mcpauth__abuf *b, const char *s)
{
    mcpauth__abuf_put(b, s, strlen(s));
}

const char *mcpauth__u64_text(char buf[MCPAUTH__U64_DIGITS_MAX], uint64_t v, size_t *len)
{
    size_t i = MCPAUTH__U64_DIGITS_MAX;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    *len = MCPAUTH__U64_DIGITS_MAX - i;
    return buf + i;
}

void mcpauth__abuf_u64(mcpauth__abuf *b, uint64_t v)
{
    char tmp[MCPAUTH__U64_DIGITS_MAX];
    size_t n;
    const char *t = mcpauth__u64_text(tmp, v, &n);
    mcpauth__abuf_put(b, t, n);
}

size_t mcpauth__utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The escape for one byte that JSON cannot carry raw, into out; length. */
static size_t json_escape_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '"': memcpy(out, "\\\"", 2); return 2;
    case '\\': memcpy(out, "\\\\", 2); return 2;
    case '\n': memcpy(out, "\\n", 2); return 2;
    case '\r': memcpy(out, "\\r", 2); return 2;
    case '\t': memcpy(out, "\\t", 2); return 2;
    default:
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
}

static int json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Non-zero when any of the 8 bytes in x is not json_plain: a high bit, a
 * 0x7f, a byte below 0x20, a '"' or a '\\' (the usual SWAR tests, each exact
 * about whether some byte matches; +1 cannot carry between bytes once no
 * high bit is set). Lets plain text, nearly every field of a record, be
 * checked and copied 8 bytes a step instead of one. */
static uint64_t json_bad8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    return (x | (x + ones) | ((x - ones * 0x20) & ~x) |
            ((q - ones) & ~q) | ((bs - ones) & ~bs)) & high;
}

/* When the n < 8 bytes at p are all json_plain, copy them to o and return
 * 1. They are read as two overlapping halves (as small memcpys do), so
 * nothing past the string is read; the unused bytes of the word that is
 * checked are a plain 'a'. */
static int json_plain_tail(char *o, const unsigned char *p, size_t n)
{
    uint64_t x;
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        x = a | (uint64_t)b << 32;
        if (json_bad8(x))
            return 0;
        memcpy(o, &a, 4);
        memcpy(o + n - 4, &b, 4);
    } else if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, p, 2);
        memcpy(&b, p + n - 2, 2);
        x = a | (uint64_t)b << 16 | 0x6161616100000000ull;
        if (json_bad8(x))
            return 0;
        memcpy(o, &a, 2);
        memcpy(o + n - 2, &b, 2);
    } else {
        x = p[0] | 0x6161616161616100ull;
        if (json_bad8(x))
            return 0;
        o[0] = (char)p[0];
    }
    return 1;
}

/* Nearly every value in a record (ids, names, addresses, methods) needs no
 * escaping: it is checked and copied a word at a time, and its last few
 * bytes in one step; only what needs escaping goes a byte at a time. */
size_t mcpauth__json_escape(char *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char *o = out;
    while (n) {
        while (n >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (json_bad8(x))
                break;
            memcpy(o, &x, 8);
            o += 8;
            p += 8;
            n -= 8;
        }
        if (n < 8 && (n == 0 || json_plain_tail(o, p, n)))
            return (size_t)(o + n - out);
        while (n && json_plain(*p)) {
            *o++ = (char)*p++;
            n--;
        }
        if (!n)
            break;
        size_t k = p[0] >= 0x80 ? mcpauth__utf8_seq(p, n) : 0;
        if (k) {
            memcpy(o, p, k);
            o += k;
        } else if (p[0] >= 0x80) {
            memcpy(o, "\\ufffd", 6);
            o += 6;
            k = 1;
        } else {
            o += json_escape_byte(p[0], o);
            k = 1;
        }
        p += k;
        n -= k;
    }
    return (size_t)(o - out);
}

char *mcpauth__abuf_room(mcpauth__abuf *b, size_t n)
{
    return abuf_reserve(b, n) == 0 ? b->p + b->len : NULL;
}

/* One reservation for the worst case, then escape in place: the string is
 * no longer appended in pieces, each with its own bounds check. */
void mcpauth__abuf_json_str(mcpauth__abuf *b, const char *s)
{
    if (!s) {
        mcpauth__abuf_put(b, "null", 4);
        return;
    }
    size_t n = strlen(s);
    char *o = mcpauth__abuf_room(b, MCPAUTH__JSON_STR_MAX(n));
    if (!o)
        return;
    o[0] = '"';
    size_t k = mcpauth__json_escape(o + 1, s, n);
    o[1 + k] = '"';
    b->len += k + 2;
}

void mcpauth__abuf_json_field(mcpauth__abuf *b, const char *key,
                              const char *s)
{
    mcpauth__abuf_put(b, ",\"", 2);
    mcpauth__abuf_puts(b, key);
    mcpauth__abuf_put(b, "\":", 2);
    mcpauth__abuf_json_str(b, s);
}

void mcpauth__audit_hash(const char *prev_hex, const char *canon, size_t n,
                         char *out)
{
    crypto_generichash_state st;
    unsigned char h[MCPAUTH__AUDIT_HASH_BYTES];
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)prev_hex,
                              MCPAUTH__AUDIT_HASH_HEX);
    crypto_generichash_update(&st, (const unsigned char *)canon, n);
    crypto_generichash_final(&st, h, sizeof(h));
    /* Not sodium_bin2hex: the hash is public, so its constant-time
     * encoding buys nothing on this per-record path. */
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(h); i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[MCPAUTH__AUDIT_HASH_HEX] = '\0';
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int mcpauth__audit_split(const char *line, size_t len, size_t *canon_len,
                         const char **hash)
{
    if (len < MCPAUTH__AUDIT_SUFFIX_LEN + 1)
        return -1;
    const char *suf = line + len - MCPAUTH__AUDIT_SUFFIX_LEN;
    if (memcmp(suf, ",\"hash\":\"", 9) != 0 ||
        !is_lower_hex(suf + 9, MCPAUTH__AUDIT_HASH_HEX) ||
        memcmp(suf + 9 + MCPAUTH__AUDIT_HASH_HEX, "\"}", 2) != 0)
        return -1;
    *canon_len = len - MCPAUTH__AUDIT_SUFFIX_LEN;
    *hash = suf + 9;
    return 0;
}

int mcpauth__audit_seq(const char *line, size_t len, uint64_t *seq)
{
    static const char head[] = "{\"seq\":";
    size_t i = sizeof(head) - 1;
    if (len <= i || memcmp(line, head, i) != 0)
        return -1;
    uint64_t v = 0;
    size_t start = i;
    while (i < len && line[i] >= '0' && line[i] <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(line[i++] - '0');
    }
    if (i == start || i >= len || line[i] != ',')
        return -1;
    *seq = v;
    return 0;
}
