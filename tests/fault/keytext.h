/* keytext.h: build key texts for tests that need a well-formed key with a
 * wrong secret (a changed secret character with its checksum recomputed, so
 * that the store's hash comparison, not the checksum, refuses it).
 * Mirrors the format in docs/keys.md: {prefix}_{type}_{id12}{secret36}{crc6}. */
#ifndef MCPAUTH_TEST_KEYTEXT_H
#define MCPAUTH_TEST_KEYTEXT_H

#include <stdint.h>
#include <string.h>

#define KT_ID_LEN 12
#define KT_SECRET_LEN 36
#define KT_CRC_LEN 6

static inline uint32_t kt_crc32(const char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned char)p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* Offset of the body (after the second '_'), or -1. */
static inline long kt_body(const char *key)
{
    const char *u = strchr(key, '_');
    u = u ? strchr(u + 1, '_') : NULL;
    return u ? (long)(u + 1 - key) : -1;
}

/* Recompute the trailing checksum of `key` in place. */
static inline void kt_fix_crc(char *key)
{
    static const char b62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(key), covered = n - KT_CRC_LEN;
    uint32_t crc = kt_crc32(key, covered);
    for (int i = KT_CRC_LEN - 1; i >= 0; i--) {
        key[covered + (size_t)i] = b62[crc % 62];
        crc /= 62;
    }
}

/* Change secret character `i` (0..35) of `key` and fix the checksum. */
static inline void kt_flip_secret(char *key, int i)
{
    long b = kt_body(key);
    char *c = key + b + KT_ID_LEN + i;
    *c = *c == 'a' ? 'b' : 'a';
    kt_fix_crc(key);
}

/* Change id character `i` (0..11): an unknown id, still well-formed. */
static inline void kt_flip_id(char *key, int i)
{
    long b = kt_body(key);
    char *c = key + b + i;
    *c = *c == 'Z' ? 'Y' : 'Z';
    kt_fix_crc(key);
}

#endif
