/* keyformat.c: see keyformat.h. */
#include "keyformat.h"

#include <sodium.h>
#include <string.h>

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* IEEE 802.3 CRC32 (the one zlib and GitHub's token checksum use).
 *
 * Performance: every verification checks the CRC of ~60 bytes before any
 * lookup. Four bits at a time (a 16-entry table) cost ~130 dependent steps,
 * about 13% of an apikey decision in the bench (docs/performance.md);
 * slicing-by-8 takes eight bytes per step with eight independent loads.
 * The 8 KiB of tables are derived from the polynomial once, when the
 * library loads, so they need no lock or check on the hot path. */
static uint32_t crc_tab[8][256];
/* Each base62 digit's value (0 for other bytes, which the parse has refused
 * before it reads a checksum). */
static uint8_t b62_val[256];
/* BLAKE2b's state before any input, for MCPAUTH__KEY_HASH_LEN bytes and no
 * key: the same for every key hashed, so set up once. */
static crypto_generichash_state key_hash_start;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CRC_CLMUL 1
/* Set once, when the library loads, like the tables. */
static int crc_have_clmul;
#endif

__attribute__((constructor)) static void crc_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        crc_tab[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
    for (uint8_t i = 0; i < 62; i++)
        b62_val[(unsigned char)b62[i]] = i;
    crypto_generichash_init(&key_hash_start, NULL, 0, MCPAUTH__KEY_HASH_LEN);
#ifdef CRC_CLMUL
    __builtin_cpu_init();
    crc_have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
}

/* The register form of the CRC (not inverted) over len bytes, eight at a
 * time through the tables. */
static uint32_t crc_run_table(uint32_t crc, const unsigned char *p, size_t len)
{
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = crc_tab[7][lo & 0xFF] ^ crc_tab[6][(lo >> 8) & 0xFF] ^
              crc_tab[5][(lo >> 16) & 0xFF] ^ crc_tab[4][lo >> 24] ^
              crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^ crc_tab[1][p[6]] ^ crc_tab[0][p[7]];
    }
    while (len--)
        crc = crc_tab[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#ifdef CRC_CLMUL
/* The same over len bytes, a positive multiple of 16, by carry-less
 * multiplication: each 16-byte block is folded into the next with x^(128+64)
 * and x^128 mod P, then the 128 bits left are reduced to 64 and, by Barrett
 * reduction, to 32 (Intel's white paper "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ"; the constants are for the bit-reflected
 * polynomial 0x1DB710641). Performance: the key's 48 bytes before its last
 * 9 take ~30 instructions instead of ~120 through the tables. */
__attribute__((target("pclmul,sse4.1")))
static uint32_t crc_run_clmul(uint32_t crc, const unsigned char *p, size_t len)
{
    const __m128i fold = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
    const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
                              _mm_cvtsi32_si128((int)crc));
    for (p += 16, len -= 16; len; p += 16, len -= 16) {
        __m128i lo = _mm_clmulepi64_si128(x, fold, 0x00);
        x = _mm_clmulepi64_si128(x, fold, 0x11);
        x = _mm_xor_si128(_mm_xor_si128(x, lo),
                          _mm_loadu_si128((const __m128i *)(const void *)p));
    }
    /* 128 bits to 64 */
    __m128i t = _mm_clmulepi64_si128(x, fold, 0x10);
    x = _mm_xor_si128(_mm_srli_si128(x, 8), t);
    t = _mm_srli_si128(x, 4);
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), k5, 0x00), t);
    /* Barrett: 64 bits to 32 */
    t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x, t), 1);
}
#endif

uint32_t mcpauth__crc32_portable(const void *data, size_t len)
{
    return crc_run_table(0xFFFFFFFFu, data, len) ^ 0xFFFFFFFFu;
}

uint32_t mcpauth__crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
#ifdef CRC_CLMUL
    if (crc_have_clmul && len >= 16) {
        size_t n = len & ~(size_t)15;
        crc = crc_run_clmul(crc, p, n);
        p += n;
        len -= n;
    }
#endif
    return crc_run_table(crc, p, len) ^ 0xFFFFFFFFu;
}

static int is_b62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

/* Performance: the 54-character body check runs on every verification.
 * A byte at a time it was ~330 instructions, more than the CRC; sixteen
 * bytes a step with GCC's portable vector extension (SSE2 on x86-64, NEON
 * on arm64, plain code elsewhere) make it ~40. Letters are folded to lower
 * case with | 0x20, which maps no other byte into 'a'..'z'; unsigned
 * wrap-around turns each range test into one comparison. */
typedef unsigned char b62_vec __attribute__((vector_size(16)));

/* 1 when the 16 bytes at s are all base62. */
static int block_b62(const char *s)
{
    b62_vec v, letter, digit;
    memcpy(&v, s, sizeof(v));
    letter = (v | 0x20) - 'a';
    digit = v - '0';
    b62_vec ok = (b62_vec)((letter < 26) | (digit < 10));
    uint64_t w[2];
    memcpy(w, &ok, sizeof(w));
    return (w[0] & w[1]) == UINT64_MAX;
}

/* 1 when the 6 base62 digits at s are the CRC crc_encode writes for crc.
 * Decoding the text is cheaper than encoding the CRC (six divisions) and
 * comparing, and equivalent: 6 digits have one value below 62^6 each, and
 * every CRC is below 62^6. */
static int crc_matches(uint32_t crc, const char *s)
{
    uint64_t v = 0;
    for (int i = 0; i < MCPAUTH__KEY_CRC_LEN; i++)
        v = v * 62 + b62_val[(unsigned char)s[i]];
    return v == crc;
}

/* 1 when all n characters are base62. */
static int all_b62(const char *s, size_t n)
{
    if (n < sizeof(b62_vec)) {
        for (size_t i = 0; i < n; i++)
            if (!is_b62(s[i]))
                return 0;
        return 1;
    }
    int ok = 1;
    size_t i = 0;
    for (; i + sizeof(b62_vec) <= n; i += sizeof(b62_vec))
        ok &= block_b62(s + i);
    /* The tail as one block that overlaps the previous one. */
    if (i < n)
        ok &= block_b62(s + n - sizeof(b62_vec));
    return ok;
}

/* The CRC as 6 base62 digits, most significant first (62^6 > 2^32). */
static void crc_encode(uint32_t crc, char out[MCPAUTH__KEY_CRC_LEN])
{
    for (int i = MCPAUTH__KEY_CRC_LEN - 1; i >= 0; i--) {
        out[i] = b62[crc % 62];
        crc /= 62;
    }
}

int mcpauth__key_prefix_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > MCPAUTH__KEY_PREFIX_MAX || !(p[0] >= 'a' && p[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return 0;
    return 1;
}

unsigned mcpauth__key_type_bit(const char *t, size_t len)
{
    if (len == 4 && memcmp(t, "live", 4) == 0)
        return MCPAUTH_KEY_TYPE_LIVE;
    if (len == 4 && memcmp(t, "test", 4) == 0)
        return MCPAUTH_KEY_TYPE_TEST;
    return 0;
}

int mcpauth__key_id_ok(const char *id)
{
    if (!id)
        return 0;
    for (int i = 0; i < MCPAUTH__KEY_ID_LEN; i++)
        if (!is_b62(id[i]))
            return 0;
    return id[MCPAUTH__KEY_ID_LEN] == '\0';
}

mcpauth__key_fault mcpauth__key_parse(const char *text, size_t n,
                                      mcpauth__key_parts *out)
{
    memset(out, 0, sizeof(*out));
    if (!text || n == 0)
        return MCPAUTH__KEY_EMPTY;
    if (n >= MCPAUTH_KEY_TEXT_MAX)
        return MCPAUTH__KEY_TOO_LONG;
    const char *u1 = memchr(text, '_', n);
    if (!u1 || u1 == text || (size_t)(u1 - text) > MCPAUTH__KEY_PREFIX_MAX)
        return MCPAUTH__KEY_BAD_PREFIX;
    for (const char *c = text; c < u1; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')) ||
            (c == text && !(*c >= 'a' && *c <= 'z')))
            return MCPAUTH__KEY_BAD_PREFIX;
    const char *t = u1 + 1;
    const char *u2 = memchr(t, '_', n - (size_t)(t - text));
    unsigned type = u2 ? mcpauth__key_type_bit(t, (size_t)(u2 - t)) : 0;
    if (!type)
        return MCPAUTH__KEY_BAD_TYPE;
    const char *body = u2 + 1;
    size_t blen = n - (size_t)(body - text);
    if (!all_b62(body, blen))
        return MCPAUTH__KEY_BAD_CHAR;
    if (blen != MCPAUTH__KEY_BODY_LEN)
        return MCPAUTH__KEY_BAD_LENGTH;
    size_t covered = n - MCPAUTH__KEY_CRC_LEN;
    if (!crc_matches(mcpauth__crc32(text, covered), text + covered))
        return MCPAUTH__KEY_BAD_CHECKSUM;
    out->prefix = text;
    out->prefix_len = (size_t)(u1 - text);
    out->type = type;
    out->id = body;
    out->len = n;
    return MCPAUTH__KEY_WELLFORMED;
}

const char *mcpauth__key_fault_name(mcpauth__key_fault f)
{
    switch (f) {
    case MCPAUTH__KEY_WELLFORMED: return "well-formed";
    case MCPAUTH__KEY_EMPTY: return "empty key";
    case MCPAUTH__KEY_TOO_LONG: return "key too long";
    case MCPAUTH__KEY_BAD_PREFIX: return "malformed key prefix";
    case MCPAUTH__KEY_BAD_TYPE: return "unknown key type";
    case MCPAUTH__KEY_BAD_LENGTH: return "key body has the wrong length";
    case MCPAUTH__KEY_BAD_CHAR: return "key body has a character outside [0-9A-Za-z]";
    case MCPAUTH__KEY_BAD_CHECKSUM: return "key checksum does not match";
    }
    return "malformed key";
}

/* randombytes_uniform rejects the biased tail, so every character carries
 * a full log2(62) bits. */
static void random_b62(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = b62[randombytes_uniform(62)];
}

void mcpauth__key_new_id(char *id)
{
    random_b62(id, MCPAUTH__KEY_ID_LEN);
    id[MCPAUTH__KEY_ID_LEN] = '\0';
}

size_t mcpauth__key_generate(const char *prefix, const char *type,
                             const char *id, char *out, size_t cap)
{
    if (!mcpauth__key_prefix_ok(prefix) || !type ||
        !mcpauth__key_type_bit(type, strlen(type)) || !mcpauth__key_id_ok(id))
        return 0;
    size_t p = strlen(prefix), t = strlen(type);
    size_t n = p + 1 + t + 1 + MCPAUTH__KEY_BODY_LEN;
    if (cap < n + 1)
        return 0;
    char *w = out;
    memcpy(w, prefix, p), w += p, *w++ = '_';
    memcpy(w, type, t), w += t, *w++ = '_';
    memcpy(w, id, MCPAUTH__KEY_ID_LEN), w += MCPAUTH__KEY_ID_LEN;
    random_b62(w, MCPAUTH__KEY_SECRET_LEN), w += MCPAUTH__KEY_SECRET_LEN;
    crc_encode(mcpauth__crc32(out, (size_t)(w - out)), w);
    w += MCPAUTH__KEY_CRC_LEN;
    *w = '\0';
    return n;
}

void mcpauth__key_hash(const char *text, size_t len,
                       unsigned char out[MCPAUTH__KEY_HASH_LEN])
{
    crypto_generichash_state st;
    memcpy(&st, &key_hash_start, sizeof(st));
    crypto_generichash_update(&st, (const unsigned char *)text, len);
    /* Not wiped again here: final wipes the state's chaining value and its
     * buffer, which held the key (libsodium's blake2b_final; what is left
     * are the length and the last-block flag). That wipe is checked by
     * test_keyformat; a second one was ~50 instructions a verification. */
    crypto_generichash_final(&st, out, MCPAUTH__KEY_HASH_LEN);
}
