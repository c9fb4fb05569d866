/*
 * rl_siphash.h: SipHash-2-4 of an rl_key, inlined.
 *
 * Bit for bit the value libsodium's crypto_shorthash (which is
 * SipHash-2-4) gives for the key's hashed bytes (kind, len and the len
 * used bytes of data) and the same 16-byte seed, read as a little-endian
 * uint64 (test_ratelimit_siphash compares the two on millions of keys).
 *
 * Why not call crypto_shorthash: every rate-limited request hashes its key
 * at least once, and libsodium's general loop over a length it does not
 * know, behind two calls, cost ~207 instructions a hash (callgrind, bench
 * scenario `full`). SipHash-2-4 itself is most of that (10 rounds for an
 * address key), so the saving is in what the key lets us skip: the seed's
 * initial state is worked out once per backend, the first message word of
 * an IPv4 address key is always the same and is compressed once per
 * backend too, and the tail of an address key is unrolled. An IPv4 key
 * costs ~136 instructions a hash.
 */
#ifndef MCPAUTH_RL_SIPHASH_H
#define MCPAUTH_RL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rl_key.h"

#define RL_SIPHASH_SEEDBYTES 16 /* crypto_shorthash_KEYBYTES */

/* The first message word of every IPv4 address key (kind, len 16, then six
 * of the ten zero bytes that begin ::ffff:a.b.c.d), as read little-endian. */
#define RL_SIP_ADDR_WORD0 ((uint64_t)RL_KEY_ADDR | (uint64_t)16 << 8)
_Static_assert(offsetof(rl_key, len) == 1 && offsetof(rl_key, data) == 2,
               "RL_SIP_ADDR_WORD0 is kind, len and data[0..5]");

/* What the seed determines, worked out once per backend: the initial state
 * (the key words xor SipHash's constants) and the state once the constant
 * first word of an IPv4 address key is compressed, which saves those two
 * rounds on nearly every request. */
typedef struct rl_siphash_seed {
    uint64_t v[4];
    uint64_t addr_v[4];
} rl_siphash_seed;

static inline uint64_t rl_sip_load64_le(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t rl_sip_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void rl_sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = rl_sip_rotl(v[1], 13); v[1] ^= v[0];
    v[0] = rl_sip_rotl(v[0], 32);
    v[2] += v[3]; v[3] = rl_sip_rotl(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = rl_sip_rotl(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = rl_sip_rotl(v[1], 17); v[1] ^= v[2];
    v[2] = rl_sip_rotl(v[2], 32);
}

/* The compression step for one message word: c = 2 rounds. */
static inline void rl_sip_word(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    rl_sip_round(v);
    rl_sip_round(v);
    v[0] ^= m;
}

/* The seed bytes crypto_shorthash would take, as the states above. */
static inline void rl_siphash_seed_init(rl_siphash_seed *s,
                                        const uint8_t bytes[RL_SIPHASH_SEEDBYTES])
{
    uint64_t k0 = rl_sip_load64_le(bytes), k1 = rl_sip_load64_le(bytes + 8);
    s->v[0] = k0 ^ UINT64_C(0x736f6d6570736575);
    s->v[1] = k1 ^ UINT64_C(0x646f72616e646f6d);
    s->v[2] = k0 ^ UINT64_C(0x6c7967656e657261);
    s->v[3] = k1 ^ UINT64_C(0x7465646279746573);
    memcpy(s->addr_v, s->v, sizeof(s->v));
    rl_sip_word(s->addr_v, RL_SIP_ADDR_WORD0);
}

/* SipHash-2-4 of the first n bytes of k (2 <= n <= sizeof(rl_key)), from
 * state v with the first `from` words already compressed. Always inlined
 * so that a caller passing constants gets the loop unrolled and the tail
 * mask folded. Reads only inside *k: the tail word is loaded whole (it lies
 * inside the key) and masked, since bytes past n are not hashed (they are
 * zero in a well-formed key, but the hash does not rely on it). */
static inline __attribute__((always_inline)) uint64_t
rl_siphash_finish(uint64_t v[4], const rl_key *k, size_t from, size_t n)
{
    const uint8_t *p = (const uint8_t *)k;
    size_t words = n / 8, rest = n % 8;
    for (size_t i = from; i < words; i++)
        rl_sip_word(v, rl_sip_load64_le(p + 8 * i));
    uint64_t b = (uint64_t)n << 56;
    if (rest) /* then 8 * words + 8 <= sizeof(rl_key) (48) */
        b |= rl_sip_load64_le(p + 8 * words) &
             ((UINT64_C(1) << (8 * rest)) - 1);
    rl_sip_word(v, b);
    v[2] ^= 0xff;
    rl_sip_round(v); /* d = 4 finalisation rounds, unrolled */
    rl_sip_round(v);
    rl_sip_round(v);
    rl_sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

_Static_assert(sizeof(rl_key) % 8 == 0,
               "rl_siphash_finish loads a partial tail as a whole word inside the key");

/* The hash of k's kind, len and used bytes. IPv4 address keys, the ones
 * nearly every request hashes, start from the cached state; other address
 * keys get an unrolled copy of their own. */
static inline uint64_t rl_siphash_key(const rl_siphash_seed *s, const rl_key *k)
{
    uint64_t v[4];
    if (rl_sip_load64_le((const uint8_t *)k) == RL_SIP_ADDR_WORD0) {
        memcpy(v, s->addr_v, sizeof(v));
        return rl_siphash_finish(v, k, 1, offsetof(rl_key, data) + 16);
    }
    memcpy(v, s->v, sizeof(v));
    if (k->len == 16)
        return rl_siphash_finish(v, k, 0, offsetof(rl_key, data) + 16);
    return rl_siphash_finish(v, k, 0, offsetof(rl_key, data) + k->len);
}

#endif
