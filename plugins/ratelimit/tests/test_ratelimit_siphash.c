/*
 * test_ratelimit_siphash.c: the backend's inlined SipHash-2-4 (rl_siphash.h)
 * gives exactly crypto_shorthash's value, on a million random keys of each
 * kind the limiter hashes, built by the same functions the plugin uses, and
 * on every hashed length (2 to 48 bytes), each with its own random seed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_key.h"
#include "rl_siphash.h"
#include "testutil.h"

#define RL_TEST_KEYS 1000000    /* per kind */
#define RL_TEST_KEYS_SLOW 20000 /* per kind under valgrind */
#define RL_TEXT_MAX 200         /* longest random text (hashed keys) */

/* splitmix64: fast enough to feed millions of keys, which libsodium's
 * randombytes (a system call each time here) is not. Seeded from
 * randombytes, and the seed is printed on a failure to replay it. */
static uint64_t rl_test_rng;
static uint64_t rl_test_rng_seed;

static uint64_t rl_test_next(void)
{
    uint64_t z = (rl_test_rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rl_test_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rl_test_next();
}

/* n random non-NUL bytes and a NUL: a client_ip or key_id as received. */
static void rl_test_text(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(1 + rl_test_next() % 255);
    buf[n] = '\0';
}

static size_t rl_test_count(void)
{
    return getenv("MCPAUTH_UNDER_VALGRIND") ? RL_TEST_KEYS_SLOW : RL_TEST_KEYS;
}

/* 1 when rl_siphash_key(k) is crypto_shorthash of k's hashed bytes under a
 * fresh random seed; the first mismatch is printed. */
static int rl_test_same(const rl_key *k)
{
    uint8_t seed[crypto_shorthash_KEYBYTES], out[crypto_shorthash_BYTES];
    rl_test_bytes(seed, sizeof(seed));
    crypto_shorthash(out, (const uint8_t *)k, offsetof(rl_key, data) + k->len,
                     seed);
    rl_siphash_seed s;
    rl_siphash_seed_init(&s, seed);
    uint64_t want = rl_sip_load64_le(out), got = rl_siphash_key(&s, k);
    if (got == want)
        return 1;
    printf("\nkind %u len %u: got %016llx, crypto_shorthash %016llx "
           "(rng seed %016llx)\n", k->kind, k->len, (unsigned long long)got,
           (unsigned long long)want, (unsigned long long)rl_test_rng_seed);
    return 0;
}

/* IPv4 keys take the cached-state path; so does one IPv6 key in four, whose
 * first six bytes are zero (as in ::1), the others the general one. */
static void test_addr(int family)
{
    size_t n = rl_test_count(), bad = 0;
    for (size_t i = 0; i < n && bad == 0; i++) {
        mcpauth_addr a = { .family = family };
        rl_test_bytes(a.bytes, family == 4 ? 4 : 16);
        if (family == 6 && i % 4 == 0)
            memset(a.bytes, 0, 6);
        rl_key k;
        rl_key_from_addr(&k, MCPAUTH_OK, &a, NULL);
        CU_ASSERT_EQUAL_FATAL(k.kind, RL_KEY_ADDR);
        bad += !rl_test_same(&k);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_ipv4(void)
{
    test_addr(4);
}

static void test_ipv6(void)
{
    test_addr(6);
}

/* Texts of every length that fits (0 to 46 bytes), in turn; as_ip: a
 * client_ip that does not parse, else a principal's key_id. */
static void test_text(int as_ip)
{
    size_t n = rl_test_count(), bad = 0;
    char text[RL_KEY_DATA_MAX + 1];
    for (size_t i = 0; i < n && bad == 0; i++) {
        rl_test_text(text, i % (RL_KEY_DATA_MAX + 1));
        rl_key k;
        if (as_ip)
            rl_key_from_addr(&k, MCPAUTH_EINVAL, NULL, text);
        else
            rl_key_from_principal(&k, text);
        CU_ASSERT_EQUAL_FATAL(k.kind, as_ip ? RL_KEY_IP_TEXT : RL_KEY_PRINCIPAL);
        CU_ASSERT_EQUAL_FATAL(k.len, i % (RL_KEY_DATA_MAX + 1));
        bad += !rl_test_same(&k);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_ip_text(void)
{
    test_text(1);
}

static void test_principal(void)
{
    test_text(0);
}

/* Texts too long for the key, stored as their BLAKE2b hash. */
static void test_hashed(void)
{
    size_t n = rl_test_count(), bad = 0;
    char text[RL_TEXT_MAX + 1];
    for (size_t i = 0; i < n && bad == 0; i++) {
        size_t len = RL_KEY_DATA_MAX + 1 +
                     rl_test_next() % (RL_TEXT_MAX - RL_KEY_DATA_MAX);
        rl_test_text(text, len);
        rl_key k;
        if (i % 2)
            rl_key_from_addr(&k, MCPAUTH_EINVAL, NULL, text);
        else
            rl_key_from_principal(&k, text);
        CU_ASSERT_EQUAL_FATAL(k.kind, RL_KEY_HASHED);
        bad += !rl_test_same(&k);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* The one no-address key, under a million seeds. */
static void test_no_ip(void)
{
    size_t n = rl_test_count(), bad = 0;
    rl_key k;
    rl_key_from_ip(&k, NULL);
    CU_ASSERT_EQUAL_FATAL(k.kind, RL_KEY_NO_IP);
    for (size_t i = 0; i < n && bad == 0; i++)
        bad += !rl_test_same(&k);
    CU_ASSERT_EQUAL(bad, 0);
}

/* Bytes past len are not hashed, whatever they hold: the hash reads the
 * tail word whole and must mask it, as crypto_shorthash never sees them. */
static void test_padding_ignored(void)
{
    size_t bad = 0;
    for (size_t len = 0; len <= RL_KEY_DATA_MAX; len++) {
        rl_key k;
        memset(&k, 0, sizeof(k));
        k.kind = RL_KEY_PRINCIPAL;
        k.len = (uint8_t)len;
        rl_test_bytes(k.data, sizeof(k.data));
        bad += !rl_test_same(&k);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ratelimit siphash", NULL, NULL);
    if (!s || sodium_init() < 0)
        return -1;
    randombytes_buf(&rl_test_rng_seed, sizeof(rl_test_rng_seed));
    rl_test_rng = rl_test_rng_seed;
    CU_add_test(s, "IPv4 addresses", test_ipv4);
    CU_add_test(s, "IPv6 addresses", test_ipv6);
    CU_add_test(s, "address texts, every length", test_ip_text);
    CU_add_test(s, "principal key ids, every length", test_principal);
    CU_add_test(s, "hashed long texts", test_hashed);
    CU_add_test(s, "the no-address key", test_no_ip);
    CU_add_test(s, "bytes past len are not hashed", test_padding_ignored);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
