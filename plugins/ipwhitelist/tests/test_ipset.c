/* test_ipset.c: address and CIDR parsing, and the range set. */
#include <stdlib.h>
#include <string.h>

#include "ipset.h"
#include "testutil.h"

typedef struct cidr_case {
    const char *text;
    int ok;           /* parses in strict mode */
    int family;
    unsigned prefix;
} cidr_case;

static const cidr_case cidr_cases[] = {
    { "10.0.0.0/8", 1, 4, 8 },
    { "0.0.0.0/0", 1, 4, 0 },
    { "192.0.2.7/32", 1, 4, 32 },
    { "192.0.2.7", 1, 4, 32 },
    { "::/0", 1, 6, 0 },
    { "2001:db8::/32", 1, 6, 32 },
    { "2001:db8::1/128", 1, 6, 128 },
    { "::1", 1, 6, 128 },
    { "::ffff:10.0.0.0/104", 1, 4, 8 },   /* mapped block is IPv4 */
    { "::ffff:192.0.2.7", 1, 4, 32 },
    { "::ffff:0:0/96", 1, 4, 0 },
    { "10.0.0.1/8", 0, 0, 0 },            /* host bits */
    { "2001:db8::1/32", 0, 0, 0 },
    { "10.0.0.0/33", 0, 0, 0 },
    { "::/129", 0, 0, 0 },
    { "10.0.0.0/", 0, 0, 0 },
    { "10.0.0.0/-1", 0, 0, 0 },
    { "10.0.0.0/08", 0, 0, 0 },
    { "10.0.0.0/ 8", 0, 0, 0 },
    { "10.0.0.256", 0, 0, 0 },
    { "10.0.0", 0, 0, 0 },
    { "010.0.0.1", 0, 0, 0 },
    { "10.0.0.1 ", 0, 0, 0 },
    { "", 0, 0, 0 },
    { "/8", 0, 0, 0 },
    { "fe80::1%eth0", 0, 0, 0 },
    { "1:2:3:4:5:6:7:8:9", 0, 0, 0 },
    { "example.com", 0, 0, 0 },
    { "1.2.3.4/8/8", 0, 0, 0 },
};

static void test_cidr_table(void)
{
    for (size_t i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
        const cidr_case *c = &cidr_cases[i];
        ipw_cidr out;
        const char *why = ipw_cidr_parse(c->text, 1, &out);
        if ((why == NULL) != c->ok)
            fprintf(stderr, "'%s': %s\n", c->text, why ? why : "parsed");
        CU_ASSERT_EQUAL(why == NULL, c->ok);
        if (c->ok && !why) {
            CU_ASSERT_EQUAL(out.addr.family, c->family);
            CU_ASSERT_EQUAL(out.prefix, c->prefix);
        }
    }
}

static void test_lenient_clears_host_bits(void)
{
    ipw_cidr c;
    ipw_addr a;
    CU_ASSERT_PTR_NULL_FATAL(ipw_cidr_parse("10.1.2.3/8", 0, &c));
    CU_ASSERT_EQUAL(ipw_addr_parse("10.200.0.1", 10, &a), 0);
    CU_ASSERT_TRUE(ipw_cidr_contains(&c, &a));
}

static ipw_addr addr(const char *t)
{
    ipw_addr a;
    CU_ASSERT_EQUAL(ipw_addr_parse(t, strlen(t), &a), 0);
    return a;
}

static void add(ipw_set *s, const char *t)
{
    ipw_cidr c;
    CU_ASSERT_PTR_NULL_FATAL(ipw_cidr_parse(t, 1, &c));
    CU_ASSERT_EQUAL(ipw_set_add(s, &c), 0);
}

static void test_set_edges(void)
{
    ipw_set s;
    memset(&s, 0, sizeof(s));
    add(&s, "192.0.2.0/24");
    add(&s, "192.0.2.128/25");   /* nested: merged away */
    add(&s, "198.51.100.7/32");
    add(&s, "2001:db8::/32");
    add(&s, "::1/128");
    ipw_set_finish(&s);
    CU_ASSERT_EQUAL(ipw_set_size(&s), 4);
    ipw_addr a;
    a = addr("192.0.2.0");       CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("192.0.2.255");     CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("192.0.1.255");     CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    a = addr("192.0.3.0");       CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    a = addr("198.51.100.7");    CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("198.51.100.8");    CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    a = addr("::ffff:198.51.100.7"); CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("2001:db8:ffff::1"); CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("2001:db9::");      CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    a = addr("::1");             CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("::2");             CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    a = addr("0.0.0.0");         CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    a = addr("255.255.255.255"); CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    ipw_set_free(&s);
}

static void test_set_everything(void)
{
    ipw_set s;
    memset(&s, 0, sizeof(s));
    add(&s, "0.0.0.0/0");
    ipw_set_finish(&s);
    ipw_addr a = addr("255.255.255.255");
    CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("::ffff:1.2.3.4");
    CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("2001:db8::1");     /* IPv4 rules never match IPv6 */
    CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    ipw_set_free(&s);
    memset(&s, 0, sizeof(s));
    add(&s, "::/0");
    ipw_set_finish(&s);
    a = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    CU_ASSERT_TRUE(ipw_set_contains(&s, &a));
    a = addr("1.2.3.4");         /* nor IPv6 rules IPv4 clients */
    CU_ASSERT_FALSE(ipw_set_contains(&s, &a));
    ipw_set_free(&s);
}

/* Random blocks against a linear scan: the binary search agrees. */
static void test_set_matches_linear(void)
{
    enum { N = 10000, Q = 3000 };
    ipw_cidr *blocks = calloc(N, sizeof(ipw_cidr));
    ipw_set s;
    memset(&s, 0, sizeof(s));
    srand(12345);
    for (int i = 0; i < N; i++) {
        char *t = tu_fmt("%d.%d.%d.0/%d", rand() % 256, rand() % 256,
                         rand() % 256, 8 + rand() % 17);
        ipw_cidr_parse(t, 0, &blocks[i]);
        CU_ASSERT_EQUAL(ipw_set_add(&s, &blocks[i]), 0);
        free(t);
    }
    ipw_set_finish(&s);
    int agree = 1;
    for (int q = 0; q < Q; q++) {
        ipw_addr a;
        memset(&a, 0, sizeof(a));
        a.family = 4;
        for (int k = 0; k < 4; k++)
            a.b[k] = (uint8_t)(rand() % 256);
        int linear = 0;
        for (int i = 0; i < N && !linear; i++)
            linear = ipw_cidr_contains(&blocks[i], &a);
        agree &= linear == ipw_set_contains(&s, &a);
    }
    CU_ASSERT_TRUE(agree);
    ipw_set_free(&s);
    free(blocks);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ipwhitelist_ipset", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "cidr table", test_cidr_table);
    CU_add_test(s, "lenient parse clears host bits", test_lenient_clears_host_bits);
    CU_add_test(s, "set edges", test_set_edges);
    CU_add_test(s, "set everything", test_set_everything);
    CU_add_test(s, "set agrees with a linear scan", test_set_matches_linear);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
