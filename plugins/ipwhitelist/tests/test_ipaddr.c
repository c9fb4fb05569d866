/* test_ipaddr.c: address parsing against inet_pton. ipw_addr_parse and
 * ipw_addr_parse_str parse plain dotted IPv4 themselves and hand the rest
 * to inet_pton; whatever the text, they must answer as inet_pton alone
 * (ref_parse) does, with the same address, and read nothing past the end
 * of the text: every text is placed against an unmapped page. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipaddr.h"
#include "testutil.h"

/* The parser before it had a fast path: inet_pton, with ::ffff:a.b.c.d
 * turned into IPv4. This is the specification. */
static int ref_parse(const char *text, size_t len, ipw_addr *out)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    char buf[IPW_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (memchr(buf, ':', len)) {
        if (inet_pton(AF_INET6, buf, out->b) != 1)
            return -1;
        out->family = 6;
        if (memcmp(out->b, mapped, 12) == 0) {
            memmove(out->b, out->b + 12, 4);
            memset(out->b + 4, 0, 12);
            out->family = 4;
        }
        return 0;
    }
    if (inet_pton(AF_INET, buf, out->b) != 1)
        return -1;
    out->family = 4;
    return 0;
}

/* ---- texts against a guard page ---- */

static char *guard_base;   /* two pages, the second one PROT_NONE */
static size_t page;

static int guard_open(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    guard_base = p;
    return mprotect(guard_base + page, page, PROT_NONE);
}

static int guard_close(void)
{
    munmap(guard_base, 2 * page);
    return 0;
}

/* The n bytes at text, copied so that the last one is the page's last. */
static const char *at_page_end(const char *text, size_t n)
{
    char *p = guard_base + page - n;
    memcpy(p, text, n);
    return p;
}

/* ---- comparing one text ---- */

static long mismatches;

static void report(const char *what, const char *text, size_t len, int want, int got)
{
    if (++mismatches > 10)
        return;
    fprintf(stderr, "%s(\"", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\", %zu): inet_pton says %d, parser %d\n", len, want, got);
}

static int same(int rw, const ipw_addr *w, int rg, const ipw_addr *g)
{
    return rw == rg && (rw != 0 || memcmp(w, g, sizeof(*w)) == 0);
}

/* The len bytes at text (a NUL among them included) through both entry
 * points: ipw_addr_parse with exactly len bytes before the guard page,
 * ipw_addr_parse_str with the text up to its first NUL, NUL-terminated at
 * the guard page. */
static void check(const char *text, size_t len)
{
    ipw_addr want, got;
    memset(&got, 0xa5, sizeof(got));
    int rw = ref_parse(text, len, &want);
    int rg = ipw_addr_parse(at_page_end(text, len), len, &got);
    if (!same(rw, &want, rg, &got))
        report("ipw_addr_parse", text, len, rw, rg);

    size_t n = strnlen(text, len);
    char z[2 * IPW_TEXT_MAX];
    if (n >= sizeof(z))
        n = sizeof(z) - 1;
    memcpy(z, text, n);
    z[n] = '\0';
    rw = ref_parse(z, n, &want);
    memset(&got, 0xa5, sizeof(got));
    rg = ipw_addr_parse_str(at_page_end(z, n + 1), &got);
    if (!same(rw, &want, rg, &got))
        report("ipw_addr_parse_str", z, n, rw, rg);
}

static void check_str(const char *text)
{
    check(text, strlen(text));
}

/* ---- texts ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Mostly what addresses are made of, and a few bytes they are not. */
static char any_char(void)
{
    static const char alpha[] = "0123456789012345678901234567890123456789"
                                "....::abcdefABCDEFx /%+-\t";
    uint32_t r = next() % 64;
    if (r == 63)
        return '\0';
    if (r == 62)
        return (char)0xff;
    return alpha[next() % (sizeof(alpha) - 1)];
}

static size_t random_text(char *buf)
{
    size_t len = next() % 8 ? next() % 20 : next() % 72;
    for (size_t i = 0; i < len; i++)
        buf[i] = any_char();
    return len;
}

/* A part as a client might send it, or nearly: edge values, out of range,
 * leading zeros, empty. */
static int random_part(char *p)
{
    static const char *const edge[] = { "0", "1", "9", "10", "99", "100", "199", "200",
                                        "249", "250", "255", "256", "260", "300", "999",
                                        "00", "01", "000", "010", "099", "0255", "1000",
                                        "" };
    uint32_t r = next() % 4;
    if (r == 0)
        return sprintf(p, "%s", edge[next() % (sizeof(edge) / sizeof(edge[0]))]);
    return sprintf(p, "%u", r == 1 ? next() % 1000 : next() % 256);
}

static size_t near_miss(char *buf)
{
    char *p = buf;
    if (next() % 16 == 0)
        p += sprintf(p, "::ffff:");
    int parts = next() % 8 ? 4 : 2 + (int)(next() % 5);
    for (int i = 0; i < parts; i++) {
        if (i)
            *p++ = '.';
        p += random_part(p);
    }
    size_t len = (size_t)(p - buf);
    for (uint32_t m = next() % 4; m > 1; m--) {
        size_t at = len ? next() % (len + 1) : 0;
        switch (next() % 4) {
        case 0: /* replace */
            if (at < len)
                buf[at] = any_char();
            break;
        case 1: /* insert */
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = any_char();
            len++;
            break;
        case 2: /* delete */
            if (at < len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
            break;
        default: /* cut */
            len = at;
        }
    }
    return len;
}

/* Rounds of random and near-miss texts: MCPAUTH_IPADDR_ROUNDS, else a
 * number that takes a second or so (and little under valgrind, which is
 * there for memory errors). */
static long rounds(void)
{
    const char *env = getenv("MCPAUTH_IPADDR_ROUNDS");
    if (env)
        return atol(env);
    return getenv("MCPAUTH_UNDER_VALGRIND") ? 20000 : 1000000;
}

/* ---- tests ---- */

static void test_table(void)
{
    mismatches = 0;
    static const char *const texts[] = {
        "0.0.0.0", "1.2.3.4", "10.1.2.3", "255.255.255.255", "192.168.100.200",
        "255.255.255.2555", "255.255.255.25", "1.2.3.256", "1.2.3.04", "01.2.3.4",
        "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ",
        "1.2.3.4/8", "1.2.3.-4", "+1.2.3.4", "0x1.2.3.4", "4294967295", "1", "",
        "::1", "::", "::ffff:1.2.3.4", "::ffff:01.2.3.4", "::ffff:256.1.1.1",
        "::ffff:0:0", "2001:db8::1", "fe80::1%eth0", "1.2.3.4::", "1:2:3:4:5:6:7:8",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        "0000:0000:0000:0000:0000:ffff:255.255.255.255",
        "1000.2.3.4", "1.2000.3.4", "999.999.999.999", "256.256.256.256",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        check_str(texts[i]);
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* A NUL inside a counted text: inet_pton stops there, but a ':' after it
 * still sends the text to the IPv6 parser, which refuses "1.2.3.4". */
static void test_nul_inside(void)
{
    mismatches = 0;
    check("1.2.3.4\0", 8);
    check("1.2.3.4\0x", 9);
    check("1.2.3.4\0:", 9);
    check("1.2.3\0.4", 8);
    check("\0" "1.2.3.4", 8);
    check("::1\0junk", 8);
    ipw_addr a;
    CU_ASSERT_EQUAL(ipw_addr_parse("1.2.3.4\0:", 9, &a), -1);
    CU_ASSERT_EQUAL(ipw_addr_parse("1.2.3.4\0x", 9, &a), 0);
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* Lengths either side of the longest dotted quad (15) and of IPW_TEXT_MAX,
 * and a counted text whose next byte would be another address. */
static void test_lengths(void)
{
    mismatches = 0;
    char buf[IPW_TEXT_MAX + 8];
    for (size_t len = 0; len < sizeof(buf); len++) {
        memset(buf, '1', len);
        check(buf, len);
        if (len >= 7)
            memcpy(buf, "1.2.3.4", 7), check(buf, len);
        if (len >= 15)
            memcpy(buf, "255.255.255.255", 15), check(buf, len);
        if (len >= 2) {
            memset(buf, ':', len);
            check(buf, len);
        }
    }
    static const char xff[] = "1.2.3.45,6.7.8.9";
    ipw_addr a;
    CU_ASSERT_EQUAL(ipw_addr_parse(xff, 7, &a), 0);
    CU_ASSERT_EQUAL(a.b[3], 4);
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* A text of IPW_TEXT_MAX bytes with no NUL among them is refused, and no
 * byte past them is read (the page ends there). */
static void test_unterminated(void)
{
    char buf[IPW_TEXT_MAX];
    memset(buf, '1', sizeof(buf));
    memcpy(buf, "1.2.3.4", 7);
    ipw_addr a;
    CU_ASSERT_EQUAL(ipw_addr_parse_str(at_page_end(buf, sizeof(buf)), &a), -1);
    memcpy(buf, "::1", 3);
    CU_ASSERT_EQUAL(ipw_addr_parse_str(at_page_end(buf, sizeof(buf)), &a), -1);
    CU_ASSERT_EQUAL(ipw_addr_parse_str(NULL, &a), -1);
    CU_ASSERT_EQUAL(ipw_addr_parse(NULL, 0, &a), -1);
}

/* Every a.b.c.d over edge values of a part: 23^4 texts. */
static void test_edge_quads(void)
{
    mismatches = 0;
    static const char *const edge[] = { "0", "1", "9", "10", "99", "100", "199", "200",
                                        "249", "250", "255", "256", "260", "300", "999",
                                        "00", "01", "000", "010", "099", "0255", "1000",
                                        "" };
    enum { E = sizeof(edge) / sizeof(edge[0]) };
    char buf[32];
    for (int i = 0; i < E * E * E * E; i++) {
        int n = snprintf(buf, sizeof(buf), "%s.%s.%s.%s", edge[i % E], edge[i / E % E],
                         edge[i / (E * E) % E], edge[i / (E * E * E)]);
        check(buf, (size_t)n);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_random(void)
{
    mismatches = 0;
    char buf[128];
    for (long i = rounds(); i > 0; i--)
        check(buf, random_text(buf));
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_near_miss(void)
{
    mismatches = 0;
    char buf[128];
    for (long i = rounds(); i > 0; i--)
        check(buf, near_miss(buf));
    CU_ASSERT_EQUAL(mismatches, 0);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ipwhitelist_ipaddr", guard_open, guard_close);
    if (!s)
        return -1;
    CU_add_test(s, "table against inet_pton", test_table);
    CU_add_test(s, "NUL inside a counted text", test_nul_inside);
    CU_add_test(s, "lengths around 15 and IPW_TEXT_MAX", test_lengths);
    CU_add_test(s, "unterminated text read no further than IPW_TEXT_MAX", test_unterminated);
    CU_add_test(s, "every quad of edge parts", test_edge_quads);
    CU_add_test(s, "random texts against inet_pton", test_random);
    CU_add_test(s, "near-miss texts against inet_pton", test_near_miss);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
