/* test_keyformat: the API key text: generation, checksum, every malformed
 * shape. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "keyformat.h"
#include "testutil.h"

static char good[MCPAUTH_KEY_TEXT_MAX];
static size_t good_len;

static void make_good(void)
{
    char id[MCPAUTH__KEY_ID_LEN + 1];
    mcpauth__key_new_id(id);
    good_len = mcpauth__key_generate("mcp", "live", id, good, sizeof(good));
}

static mcpauth__key_fault parse(const char *s)
{
    mcpauth__key_parts p;
    return mcpauth__key_parse(s, s ? strnlen(s, MCPAUTH_KEY_TEXT_MAX) : 0, &p);
}

static void test_crc32_vector(void)
{
    CU_ASSERT_EQUAL(mcpauth__crc32("123456789", 9), 0xCBF43926u);
    CU_ASSERT_EQUAL(mcpauth__crc32("", 0), 0u);
}

/* The CRC a bit at a time, straight from the polynomial. */
static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* The carry-less multiplication path (on CPUs with PCLMULQDQ, from 16
 * bytes) against the tables and the bit-at-a-time definition: every length
 * up to 300 at every alignment, all-zero and all-one blocks, and 200,000
 * random texts of a key's length, so that a key checked on one machine is
 * checked alike on any other. */
static void test_crc32_paths_agree(void)
{
    static unsigned char buf[300 + 16];
    int bad = 0;
    for (int fill = 0; fill < 3; fill++) {
        if (fill == 2)
            randombytes_buf(buf, sizeof(buf));
        else
            memset(buf, fill ? 0xFF : 0, sizeof(buf));
        for (size_t off = 0; off < 16; off++)
            for (size_t n = 0; n <= 300; n++) {
                uint32_t want = crc_bitwise(buf + off, n);
                bad += mcpauth__crc32(buf + off, n) != want;
                bad += mcpauth__crc32_portable(buf + off, n) != want;
            }
    }
    for (int i = 0; i < 200000; i++) {
        size_t n = 57 + (size_t)(i % 8);
        randombytes_buf(buf, n);
        bad += mcpauth__crc32(buf, n) != mcpauth__crc32_portable(buf, n);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_roundtrip(void)
{
    char id[MCPAUTH__KEY_ID_LEN + 1], key[MCPAUTH_KEY_TEXT_MAX];
    mcpauth__key_new_id(id);
    CU_ASSERT_TRUE(mcpauth__key_id_ok(id));
    size_t n = mcpauth__key_generate("lmk", "test", id, key, sizeof(key));
    CU_ASSERT_EQUAL(n, strlen("lmk_test_") + 54);
    CU_ASSERT_EQUAL(strlen(key), n);
    CU_ASSERT_EQUAL(strncmp(key, "lmk_test_", 9), 0);
    mcpauth__key_parts p;
    CU_ASSERT_EQUAL(mcpauth__key_parse(key, strlen(key), &p), MCPAUTH__KEY_WELLFORMED);
    CU_ASSERT_EQUAL(p.prefix_len, 3);
    CU_ASSERT_EQUAL(p.type, MCPAUTH_KEY_TYPE_TEST);
    CU_ASSERT_EQUAL(memcmp(p.id, id, MCPAUTH__KEY_ID_LEN), 0);
    CU_ASSERT_EQUAL(p.len, n);
}

static void test_keys_differ(void)
{
    char id[MCPAUTH__KEY_ID_LEN + 1] = "AAAAAAAAAAAA", a[96], b[96];
    mcpauth__key_generate("mcp", "live", id, a, sizeof(a));
    mcpauth__key_generate("mcp", "live", id, b, sizeof(b));
    CU_ASSERT_STRING_NOT_EQUAL(a, b); /* same id, fresh secret */
    unsigned char ha[32], hb[32], ha2[32];
    mcpauth__key_hash(a, strlen(a), ha);
    mcpauth__key_hash(a, strlen(a), ha2);
    mcpauth__key_hash(b, strlen(b), hb);
    CU_ASSERT_EQUAL(memcmp(ha, ha2, 32), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ha, hb, 32), 0);
}

/* The stored hash is BLAKE2b-256 of the key's text: a fixed value (from
 * Python's hashlib.blake2b(digest_size=32)), and libsodium's one-shot
 * function at every length up to 300, so that the state set up once and
 * copied per key hashes exactly as before and every stored hash still
 * matches. */
static void test_key_hash_is_blake2b(void)
{
    static const char want[] =
        "d7fdc9cab6c6be78ae8acb047c61fb20e7920f4fafab36a49517b5a8ce518362";
    unsigned char h[32], ref[32];
    char hex[65];
    mcpauth__key_hash("mcp_live_AAAAAAAAAAAA", 21, h);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    CU_ASSERT_STRING_EQUAL(hex, want);
    static unsigned char text[300];
    randombytes_buf(text, sizeof(text));
    int bad = 0;
    for (size_t n = 0; n <= sizeof(text); n++) {
        mcpauth__key_hash((const char *)text, n, h);
        crypto_generichash(ref, sizeof(ref), text, n, NULL, 0);
        bad += memcmp(h, ref, sizeof(h)) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* How many 4-byte runs of what[0..n) appear anywhere in the n_state
 * bytes at state. */
static int runs_found(const void *state, size_t n_state, const void *what, size_t n)
{
    int found = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        found += memmem(state, n_state, (const char *)what + i, 4) != NULL;
    return found;
}

/* mcpauth__key_hash does not wipe its hash state: it relies on libsodium's
 * final wiping it, which is checked here (on one state from the start
 * that key_hash copies, and 53 key lengths, every 7th from 16 to 380,
 * in one to three blocks). Before
 * final the key is in the state, so the search finds what it looks for. */
static void test_final_wipes_the_state(void)
{
    static unsigned char key[3 * 128];
    randombytes_buf(key, sizeof(key));
    int before = 0, after = 0;
    for (size_t n = 16; n <= sizeof(key); n += 7) {
        crypto_generichash_state st;
        unsigned char out[32];
        memset(&st, 0, sizeof(st)); /* init leaves the buffer unwritten */
        crypto_generichash_init(&st, NULL, 0, sizeof(out));
        crypto_generichash_update(&st, key, n);
        before += runs_found(&st, sizeof(st), key, n) > 0;
        crypto_generichash_final(&st, out, sizeof(out));
        after += runs_found(&st, sizeof(st), key, n) + runs_found(&st, sizeof(st), out, 32);
    }
    CU_ASSERT_EQUAL(before, (sizeof(key) - 16) / 7 + 1);
    CU_ASSERT_EQUAL(after, 0);
}

static void test_generate_refuses(void)
{
    char out[96], id[] = "AAAAAAAAAAAA";
    CU_ASSERT_EQUAL(mcpauth__key_generate("MCP", "live", id, out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(mcpauth__key_generate("mcp", "prod", id, out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(mcpauth__key_generate("mcp", "live", "short", out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(mcpauth__key_generate("mcp", "live", id, out, 20), 0);
}

static void test_malformed_shapes(void)
{
    make_good();
    const char *body = good + 9;
    char buf[256];
    CU_ASSERT_EQUAL(parse(good), MCPAUTH__KEY_WELLFORMED);
    CU_ASSERT_EQUAL(parse(NULL), MCPAUTH__KEY_EMPTY);
    CU_ASSERT_EQUAL(parse(""), MCPAUTH__KEY_EMPTY);
    memset(buf, 'a', 200);
    buf[200] = '\0';
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_TOO_LONG);
    CU_ASSERT_EQUAL(parse("Bearer"), MCPAUTH__KEY_BAD_PREFIX);
    snprintf(buf, sizeof(buf), "_live_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_PREFIX);
    snprintf(buf, sizeof(buf), "MCP_live_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_PREFIX);
    snprintf(buf, sizeof(buf), "1mcp_live_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_PREFIX);
    snprintf(buf, sizeof(buf), "abcdefghijklmnopq_live_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_PREFIX);
    snprintf(buf, sizeof(buf), "mcp_prod_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_TYPE);
    snprintf(buf, sizeof(buf), "mcp_LIVE_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_TYPE);
    snprintf(buf, sizeof(buf), "mcp_%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_TYPE);
    snprintf(buf, sizeof(buf), "mcp_live%s", body);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_TYPE);
    /* truncated by one, extended by one, and cut short */
    snprintf(buf, sizeof(buf), "%.*s", (int)good_len - 1, good);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_LENGTH);
    snprintf(buf, sizeof(buf), "%sA", good);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_LENGTH);
    CU_ASSERT_EQUAL(parse("mcp_live_"), MCPAUTH__KEY_BAD_LENGTH);
    /* characters outside base62: a separator, a space, a newline */
    const char bad[] = { '-', ' ', '\n', '_', '+', '/' };
    for (size_t i = 0; i < sizeof(bad); i++) {
        snprintf(buf, sizeof(buf), "%s", good);
        buf[20] = bad[i];
        CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_CHAR);
    }
    /* leading or trailing whitespace is not trimmed */
    snprintf(buf, sizeof(buf), "%s ", good);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_CHAR);
    snprintf(buf, sizeof(buf), " %s", good);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_PREFIX);
}

/* Every byte value at every body position, and in bodies of every length
 * around the 16-byte blocks the check reads: the body is refused as
 * BAD_CHAR exactly when the byte is outside [0-9A-Za-z]. */
static int b62_char(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void test_every_byte_every_position(void)
{
    make_good();
    size_t body = good_len - MCPAUTH__KEY_BODY_LEN;
    char buf[MCPAUTH_KEY_TEXT_MAX];
    int wrong = 0;
    for (size_t len = 1; len <= MCPAUTH__KEY_BODY_LEN; len++)
        for (size_t pos = 0; pos < len; pos++)
            for (int c = 1; c < 256; c++) {
                memcpy(buf, good, body + len);
                buf[body + len] = '\0';
                buf[body + pos] = (char)c;
                int bad_char = parse(buf) == MCPAUTH__KEY_BAD_CHAR;
                wrong += bad_char == b62_char(c);
            }
    CU_ASSERT_EQUAL(wrong, 0);
}

/* CRC32 catches every burst of up to 32 bits: every single-character typo
 * anywhere in the key, and every swap of two neighbours that differ. */
static void test_every_typo_caught(void)
{
    make_good();
    char buf[MCPAUTH_KEY_TEXT_MAX];
    size_t caught = 0, tried = 0;
    for (size_t i = 0; i < good_len; i++) {
        if (good[i] == '_')
            continue;
        memcpy(buf, good, good_len + 1);
        buf[i] = good[i] == 'z' ? 'y' : good[i] == '9' ? '8' : (char)(good[i] + 1);
        tried++;
        caught += parse(buf) != MCPAUTH__KEY_WELLFORMED;
        if (i + 1 < good_len && good[i + 1] != '_' && good[i] != good[i + 1]) {
            memcpy(buf, good, good_len + 1);
            buf[i] = good[i + 1];
            buf[i + 1] = good[i];
            tried++;
            caught += parse(buf) != MCPAUTH__KEY_WELLFORMED;
        }
    }
    CU_ASSERT_EQUAL(caught, tried);
    /* each checksum digit replaced by every other base62 digit */
    static const char digits[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t wrong = 0;
    for (size_t i = good_len - MCPAUTH__KEY_CRC_LEN; i < good_len; i++)
        for (const char *d = digits; *d; d++) {
            memcpy(buf, good, good_len + 1);
            buf[i] = *d;
            wrong += parse(buf) == (*d == good[i] ? MCPAUTH__KEY_WELLFORMED
                                                   : MCPAUTH__KEY_BAD_CHECKSUM);
        }
    CU_ASSERT_EQUAL(wrong, MCPAUTH__KEY_CRC_LEN * 62);
    /* a changed type is a checksum failure too: the CRC covers it */
    memcpy(buf, good, good_len + 1);
    memcpy(buf + 4, "test", 4);
    CU_ASSERT_EQUAL(parse(buf), MCPAUTH__KEY_BAD_CHECKSUM);
}

static void test_prefix_and_id_rules(void)
{
    CU_ASSERT_TRUE(mcpauth__key_prefix_ok("mcp"));
    CU_ASSERT_TRUE(mcpauth__key_prefix_ok("lmk2"));
    CU_ASSERT_TRUE(mcpauth__key_prefix_ok("abcdefghijklmnop"));
    CU_ASSERT_FALSE(mcpauth__key_prefix_ok("abcdefghijklmnopq"));
    CU_ASSERT_FALSE(mcpauth__key_prefix_ok(""));
    CU_ASSERT_FALSE(mcpauth__key_prefix_ok(NULL));
    CU_ASSERT_FALSE(mcpauth__key_prefix_ok("2fa"));
    CU_ASSERT_FALSE(mcpauth__key_prefix_ok("my_co"));
    CU_ASSERT_FALSE(mcpauth__key_prefix_ok("Mcp"));
    CU_ASSERT_TRUE(mcpauth__key_id_ok("0123456789Az"));
    CU_ASSERT_FALSE(mcpauth__key_id_ok("0123456789A"));
    CU_ASSERT_FALSE(mcpauth__key_id_ok("0123456789Az0"));
    CU_ASSERT_FALSE(mcpauth__key_id_ok("0123456789A-"));
    CU_ASSERT_STRING_EQUAL(mcpauth__key_fault_name(MCPAUTH__KEY_BAD_CHECKSUM),
                           "key checksum does not match");
}

static int add(void)
{
    if (sodium_init() < 0)
        return -1;
    CU_pSuite s = CU_add_suite("keyformat", NULL, NULL);
    return !s || !CU_add_test(s, "crc32 check value", test_crc32_vector) ||
           !CU_add_test(s, "crc32: every path agrees", test_crc32_paths_agree) ||
           !CU_add_test(s, "key hash is BLAKE2b-256 of the text", test_key_hash_is_blake2b) ||
           !CU_add_test(s, "the hash state is wiped by final", test_final_wipes_the_state) ||
           !CU_add_test(s, "generate and parse", test_roundtrip) ||
           !CU_add_test(s, "fresh secrets, stable hash", test_keys_differ) ||
           !CU_add_test(s, "generate refuses bad input", test_generate_refuses) ||
           !CU_add_test(s, "every malformed shape", test_malformed_shapes) ||
           !CU_add_test(s, "every typo caught by the checksum", test_every_typo_caught) ||
           !CU_add_test(s, "every byte at every body position",
                        test_every_byte_every_position) ||
           !CU_add_test(s, "prefix and id rules", test_prefix_and_id_rules);
}

int main(void)
{
    return tu_main(add);
}
