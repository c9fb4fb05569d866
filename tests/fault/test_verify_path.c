/* test_verify_path.c: mcpauth_store_verify does the same secret-dependent
 * work whether the id is unknown, the secret is wrong in its first or its
 * last character, the key is revoked, or the key is right: one BLAKE2b hash
 * of the same length, a constant-time comparison of one byte (which of the
 * two stored hashes to compare) and one of 32 bytes. The
 * calls are counted by wrapping them at link time (-Wl,--wrap), so the test
 * is exact and needs no clock. The measured times are in docs/security.md
 * (tests/fault/timing.c). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fault/keytext.h"
#include "mcpauth/mcpauth.h"
#include "testutil.h"

/* The key is hashed with a BLAKE2b state set up once and copied, so a hash
 * is counted at crypto_generichash_final and its bytes at _update. */
int __real_crypto_generichash_update(crypto_generichash_state *st,
                                     const unsigned char *in,
                                     unsigned long long inlen);
int __real_crypto_generichash_final(crypto_generichash_state *st,
                                    unsigned char *out, size_t outlen);
int __real_sodium_memcmp(const void *b1, const void *b2, size_t len);
int __wrap_crypto_generichash_update(crypto_generichash_state *st,
                                     const unsigned char *in,
                                     unsigned long long inlen);
int __wrap_crypto_generichash_final(crypto_generichash_state *st,
                                    unsigned char *out, size_t outlen);
int __wrap_sodium_memcmp(const void *b1, const void *b2, size_t len);

/* What one verification did. */
typedef struct work {
    int hashes, compares;
    unsigned long long hashed_bytes;
    size_t compared_bytes;
} work;

static work seen;

int __wrap_crypto_generichash_update(crypto_generichash_state *st,
                                     const unsigned char *in,
                                     unsigned long long inlen)
{
    seen.hashed_bytes += inlen;
    return __real_crypto_generichash_update(st, in, inlen);
}

int __wrap_crypto_generichash_final(crypto_generichash_state *st,
                                    unsigned char *out, size_t outlen)
{
    seen.hashes++;
    return __real_crypto_generichash_final(st, out, outlen);
}

int __wrap_sodium_memcmp(const void *b1, const void *b2, size_t len)
{
    seen.compares++;
    seen.compared_bytes += len;
    return __real_sodium_memcmp(b1, b2, len);
}

static char *dir;

static int setup(void)
{
    dir = tu_mkdtemp();
    return dir ? 0 : 1;
}

static int teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    return 0;
}

static work verify(mcpauth_store *s, const char *key, mcpauth_reason want)
{
    mcpauth_key_verdict v;
    memset(&seen, 0, sizeof(seen));
    mcpauth_store_verify(s, key, 0, MCPAUTH_KEY_TYPE_LIVE, &v);
    work w = seen;
    CU_ASSERT_EQUAL(v.reason, want);
    if (v.release)
        v.release(v.release_arg);
    return w;
}

static void assert_same(work a, work b)
{
    CU_ASSERT_EQUAL(a.hashes, b.hashes);
    CU_ASSERT_EQUAL(a.hashed_bytes, b.hashed_bytes);
    CU_ASSERT_EQUAL(a.compares, b.compares);
    CU_ASSERT_EQUAL(a.compared_bytes, b.compared_bytes);
}

static void test_same_work(void)
{
    char *path = tu_fmt("%s/keys.yaml", dir);
    char good[MCPAUTH_KEY_TEXT_MAX], gone[MCPAUTH_KEY_TEXT_MAX], k[MCPAUTH_KEY_TEXT_MAX];
    mcpauth_store *s = NULL;
    mcpauth_error err;
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    mcpauth_key_info *info = NULL;
    o.flags = MCPAUTH_STORE_CREATE;
    CU_ASSERT_FATAL(mcpauth_store_open(&s, path, &o, &err) == MCPAUTH_OK);
    mcpauth_key_spec spec = MCPAUTH_KEY_SPEC_INIT;
    spec.name = "good";
    CU_ASSERT_FATAL(mcpauth_store_create(s, &spec, 0, good, sizeof good, NULL, &err) == 0);
    spec.name = "gone";
    CU_ASSERT_FATAL(mcpauth_store_create(s, &spec, 0, gone, sizeof gone, &info, &err) == 0);
    CU_ASSERT_FATAL(mcpauth_store_revoke(s, info->id, 0, &err) == MCPAUTH_OK);

    work ok = verify(s, good, MCPAUTH_REASON_OK);
    CU_ASSERT_EQUAL(ok.hashes, 1);
    CU_ASSERT_EQUAL(ok.compares, 2);
    CU_ASSERT_EQUAL(ok.compared_bytes, 1 + 32);
    strcpy(k, good);
    kt_flip_id(k, 0);
    assert_same(ok, verify(s, k, MCPAUTH_REASON_BAD_CREDENTIALS));
    strcpy(k, good);
    kt_flip_secret(k, 0);
    assert_same(ok, verify(s, k, MCPAUTH_REASON_BAD_CREDENTIALS));
    strcpy(k, good);
    kt_flip_secret(k, KT_SECRET_LEN - 1);
    assert_same(ok, verify(s, k, MCPAUTH_REASON_BAD_CREDENTIALS));
    assert_same(ok, verify(s, gone, MCPAUTH_REASON_REVOKED));

    /* During a rotation's grace both secrets work, and the old one, the new
     * one and a wrong one cost what a key without a previous secret costs. */
    char fresh[MCPAUTH_KEY_TEXT_MAX];
    mcpauth_key_info *ginfo = NULL;
    spec.name = "rotating";
    CU_ASSERT_FATAL(mcpauth_store_create(s, &spec, 0, k, sizeof k, &ginfo, &err) == 0);
    CU_ASSERT_FATAL(mcpauth_store_rotate(s, ginfo->id, 86400000, 0, fresh, sizeof fresh,
                                         NULL, &err) == MCPAUTH_OK);
    assert_same(ok, verify(s, k, MCPAUTH_REASON_OK));
    assert_same(ok, verify(s, fresh, MCPAUTH_REASON_OK));
    kt_flip_secret(fresh, 0);
    assert_same(ok, verify(s, fresh, MCPAUTH_REASON_BAD_CREDENTIALS));
    mcpauth_key_info_free(ginfo);
    sodium_memzero(fresh, sizeof fresh);

    /* A key whose checksum is wrong is refused before any hashing: the
     * checksum covers only the presented text, so it says nothing about
     * the store. */
    strcpy(k, good);
    k[strlen(k) - 1] = k[strlen(k) - 1] == 'a' ? 'b' : 'a';
    work bad = verify(s, k, MCPAUTH_REASON_BAD_CREDENTIALS);
    CU_ASSERT_EQUAL(bad.hashes, 0);
    CU_ASSERT_EQUAL(bad.compares, 0);

    mcpauth_key_info_free(info);
    mcpauth_store_close(s);
    sodium_memzero(good, sizeof good);
    sodium_memzero(gone, sizeof gone);
    sodium_memzero(k, sizeof k);
    free(path);
}

static int add(void)
{
    CU_pSuite s = CU_add_suite("verify_path", setup, teardown);
    if (!s)
        return -1;
    CU_add_test(s, "same hashing and comparisons for every wrong key", test_same_work);
    return 0;
}

int main(void)
{
    return tu_main(add);
}
