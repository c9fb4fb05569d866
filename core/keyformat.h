/*
 * keyformat.h: the text of an API key, `{prefix}_{type}_{body}`.
 *
 * body is 54 base62 characters: a 12-character public id, a 36-character
 * secret (214 bits) and a 6-character CRC32 of everything before it, so that
 * a mistyped or truncated key is refused before any store lookup. See
 * docs/keys.md.
 */
#ifndef MCPAUTH_KEYFORMAT_H
#define MCPAUTH_KEYFORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "mcpauth/mcpauth.h"

#define MCPAUTH__KEY_ID_LEN 12
#define MCPAUTH__KEY_SECRET_LEN 36
#define MCPAUTH__KEY_CRC_LEN 6
#define MCPAUTH__KEY_BODY_LEN                                                  \
    (MCPAUTH__KEY_ID_LEN + MCPAUTH__KEY_SECRET_LEN + MCPAUTH__KEY_CRC_LEN)
#define MCPAUTH__KEY_PREFIX_MAX 16
#define MCPAUTH__KEY_HASH_LEN 32

/* Why a text is not a well-formed key (tests and audit details use them). */
typedef enum mcpauth__key_fault {
    MCPAUTH__KEY_WELLFORMED = 0,
    MCPAUTH__KEY_EMPTY,
    MCPAUTH__KEY_TOO_LONG,
    MCPAUTH__KEY_BAD_PREFIX,
    MCPAUTH__KEY_BAD_TYPE,
    MCPAUTH__KEY_BAD_LENGTH,
    MCPAUTH__KEY_BAD_CHAR,
    MCPAUTH__KEY_BAD_CHECKSUM
} mcpauth__key_fault;

/* The parts of a well-formed key; pointers into the parsed text. */
typedef struct mcpauth__key_parts {
    const char *prefix;
    size_t prefix_len;
    unsigned type;          /* MCPAUTH_KEY_TYPE_LIVE or _TEST */
    const char *id;         /* MCPAUTH__KEY_ID_LEN characters */
    size_t len;             /* length of the whole key */
} mcpauth__key_parts;

uint32_t mcpauth__crc32(const void *data, size_t len);
/* The same through the tables alone, whatever the CPU offers (tests). */
uint32_t mcpauth__crc32_portable(const void *data, size_t len);

/* Split and check a key text of n bytes, where n is
 * strnlen(text, MCPAUTH_KEY_TEXT_MAX) (0 for NULL): the caller has usually
 * measured it already (mcpauth_store_verify, for its prefetch). */
mcpauth__key_fault mcpauth__key_parse(const char *text, size_t n,
                                      mcpauth__key_parts *out);
const char *mcpauth__key_fault_name(mcpauth__key_fault f);

/* A valid prefix: 1..16 of [a-z0-9], starting with a letter. */
int mcpauth__key_prefix_ok(const char *prefix);
/* "live" -> MCPAUTH_KEY_TYPE_LIVE, "test" -> _TEST, else 0. */
unsigned mcpauth__key_type_bit(const char *type, size_t len);
/* A valid id: MCPAUTH__KEY_ID_LEN base62 characters. */
int mcpauth__key_id_ok(const char *id);

/* A fresh random id (MCPAUTH__KEY_ID_LEN + 1 bytes). */
void mcpauth__key_new_id(char *id);
/* A new key for `id` into out (MCPAUTH_KEY_TEXT_MAX bytes); returns its
 * length, or 0 when prefix/type are invalid. */
size_t mcpauth__key_generate(const char *prefix, const char *type,
                             const char *id, char *out, size_t cap);

/* BLAKE2b-256 of the whole key text. */
void mcpauth__key_hash(const char *text, size_t len,
                       unsigned char out[MCPAUTH__KEY_HASH_LEN]);

#endif
