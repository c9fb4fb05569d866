/*
 * audit_line.h: the audit-file record line, shared by libmcpauth (the reader
 * and verifier behind mcpauth/audit.h) and the audit-file plugin (the
 * writer). The plugin compiles audit_line.c into itself, hidden, so that its
 * hot path calls no exported helper and the format has one implementation.
 *
 * A line is one JSON object, fields in a fixed order, ending in the hash:
 *
 *   {"seq":N,<fields...>,"prev":"<64 hex>","hash":"<64 hex>"}\n
 *
 * The canonical bytes of a record are the line up to (not including) the
 * `,"hash":"` suffix. hash = hex(BLAKE2b-256(prev || canonical bytes)),
 * where prev is the previous record's 64 hex characters as written (64 '0'
 * for the first record ever written).
 */
#ifndef MCPAUTH_AUDIT_LINE_H
#define MCPAUTH_AUDIT_LINE_H

#include <stddef.h>
#include <stdint.h>

#define MCPAUTH__AUDIT_HASH_BYTES 32
#define MCPAUTH__AUDIT_HASH_HEX 64
/* `,"hash":"` + 64 hex + `"}` */
#define MCPAUTH__AUDIT_SUFFIX_LEN (9 + MCPAUTH__AUDIT_HASH_HEX + 2)

/* A growable byte buffer that starts in caller storage (usually the stack)
 * and moves to the heap only when a record is unusually long. */
typedef struct mcpauth__abuf {
    char *p;
    size_t len;
    size_t cap;
    int heap;   /* p was malloc'ed */
    int oom;    /* an append failed: the content is incomplete */
} mcpauth__abuf;

void mcpauth__abuf_init(mcpauth__abuf *b, char *storage, size_t cap);
void mcpauth__abuf_free(mcpauth__abuf *b);
void mcpauth__abuf_put(mcpauth__abuf *b, const void *data, size_t n);
void mcpauth__abuf_puts(mcpauth__abuf *b, const char *s);
void mcpauth__abuf_u64(mcpauth__abuf *b, uint64_t v);
/* v in decimal at the end of buf (no NUL); returns where it starts, and its
 * length in *len. Shared by every writer of record numbers. */
#define MCPAUTH__U64_DIGITS_MAX 20
const char *mcpauth__u64_text(char buf[MCPAUTH__U64_DIGITS_MAX], uint64_t v, size_t *len);
/* A JSON string literal, quotes included: `"` and `\` escaped, control
 * characters as \n, \t or \u00XX, and every byte that is not part of valid
 * UTF-8 replaced by \ufffd, so that no input can end the line or the
 * string early. NULL is written as null. */
void mcpauth__abuf_json_str(mcpauth__abuf *b, const char *s);
/* Room for n more bytes at b->p + b->len, or NULL (and b->oom set) when it
 * cannot be had. The caller writes there and adds what it wrote to b->len:
 * one bounds check for a whole record instead of one per piece. */
char *mcpauth__abuf_room(mcpauth__abuf *b, size_t n);
/* The most bytes one JSON-escaped input byte becomes (\u00XX, \ufffd), and
 * the most a string of n bytes takes with its quotes (or null). */
#define MCPAUTH__JSON_ESC_MAX 6
#define MCPAUTH__JSON_STR_MAX(n) (MCPAUTH__JSON_ESC_MAX * (size_t)(n) + 4)
/* The escaped bytes of s[0..n) as mcpauth__abuf_json_str writes them,
 * without the quotes, into out (room for MCPAUTH__JSON_ESC_MAX * n bytes);
 * returns how many were written. */
size_t mcpauth__json_escape(char *out, const char *s, size_t n);
/* `,"key":` then the JSON string (or null) */
void mcpauth__abuf_json_field(mcpauth__abuf *b, const char *key,
                              const char *s);

/* Length of the valid UTF-8 sequence at s (up to n bytes), or 0 when the
 * bytes there are not valid UTF-8 (overlong, surrogate, > U+10FFFF,
 * truncated). */
size_t mcpauth__utf8_seq(const unsigned char *s, size_t n);

/* hex(BLAKE2b-256(prev_hex || canon)) into out (65 bytes with the NUL). */
void mcpauth__audit_hash(const char *prev_hex, const char *canon, size_t n,
                         char *out);

/* When `line` (len bytes, no newline) ends with a well-formed hash suffix:
 * *canon_len is the length of the canonical bytes, *hash points at the 64
 * hex digits; returns 0. Otherwise -1. */
int mcpauth__audit_split(const char *line, size_t len, size_t *canon_len,
                         const char **hash);

/* The sequence number at the start of `line` ({"seq":N,...); 0 or -1. */
int mcpauth__audit_seq(const char *line, size_t len, uint64_t *seq);

/* The 64 hex digits of the genesis prev. */
extern const char mcpauth__audit_genesis[MCPAUTH__AUDIT_HASH_HEX + 1];

#endif
