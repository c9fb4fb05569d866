/* ipaddr.c: see ipaddr.h. */
#include "ipaddr.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t ipw_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0,
                                               0, 0, 0, 0, 0xff, 0xff };

/* Performance: every request's client address is parsed here, nearly
 * always plain dotted IPv4, and inet_pton's general parser (after a copy to
 * NUL-terminate) showed in the profile of the request path. This accepts a
 * subset of what inet_pton(AF_INET) accepts (four decimal parts of 0 to
 * 255, no leading zeros, nothing else), with the same value; what it
 * refuses goes through inet_pton as before. It is given NUL-terminated
 * text, so the request path needs no strlen first.
 *
 * One part of 1 to 3 digits at s, unrolled: a byte is read only after a
 * digit, so nothing past a NUL is touched. Returns the byte after the part,
 * or NULL. */
static inline const char *ipw_v4_part(const char *s, uint8_t *out)
{
    unsigned d0 = (unsigned)(unsigned char)s[0] - '0';
    if (d0 > 9)
        return NULL;
    unsigned d1 = (unsigned)(unsigned char)s[1] - '0';
    if (d1 > 9) {
        *out = (uint8_t)d0;
        return s + 1;
    }
    if (d0 == 0)
        return NULL; /* a leading zero: inet_pton refuses it too */
    unsigned d2 = (unsigned)(unsigned char)s[2] - '0';
    if (d2 > 9) {
        *out = (uint8_t)(d0 * 10 + d1);
        return s + 2;
    }
    unsigned v = d0 * 100 + d1 * 10 + d2;
    if (v > 255)
        return NULL;
    *out = (uint8_t)v;
    return s + 3;
}

/* The dotted quad at the start of text, which ends at a NUL or any byte
 * that is neither digit nor dot. Returns the length used (7 to 15; the
 * caller checks what follows), 0 when it is not one. Unrolled: no part
 * counter on the request path. */
static inline size_t ipw_parse_dotted_v4(const char *text, uint8_t out[4])
{
    const char *s = text;
    if (!(s = ipw_v4_part(s, &out[0])) || *s++ != '.' ||
        !(s = ipw_v4_part(s, &out[1])) || *s++ != '.' ||
        !(s = ipw_v4_part(s, &out[2])) || *s++ != '.' ||
        !(s = ipw_v4_part(s, &out[3])))
        return 0;
    return (size_t)(s - text);
}

/* The general path, for what the dotted-quad parser refused. */
static int ipw_addr_parse_slow(const char *text, size_t len, ipw_addr *out)
{
    char buf[IPW_TEXT_MAX];
    if (!text || len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (memchr(buf, ':', len)) {
        if (inet_pton(AF_INET6, buf, out->b) != 1)
            return -1;
        out->family = 6;
        if (memcmp(out->b, ipw_mapped_prefix, 12) == 0) {
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

static void ipw_addr_set_v4(ipw_addr *out, const uint8_t b[4])
{
    memset(out, 0, sizeof(*out));
    out->family = 4;
    memcpy(out->b, b, 4);
}

int ipw_addr_parse(const char *text, size_t len, ipw_addr *out)
{
    /* Copied so the parser sees a NUL right after the last byte: it must
     * not read text[len], which may be the next X-Forwarded-For entry. */
    char quad[IPW_V4_TEXT_MAX];
    uint8_t b[4];
    if (text && len != 0 && len < sizeof(quad)) {
        memcpy(quad, text, len);
        quad[len] = '\0';
        /* == len: a NUL inside the text goes to the general path, as before */
        if (ipw_parse_dotted_v4(quad, b) == len) {
            ipw_addr_set_v4(out, b);
            return 0;
        }
    }
    return ipw_addr_parse_slow(text, len, out);
}

int ipw_addr_parse_str(const char *text, ipw_addr *out)
{
    uint8_t b[4];
    if (!text)
        return -1;
    size_t n = ipw_parse_dotted_v4(text, b);
    if (n && text[n] == '\0') {
        ipw_addr_set_v4(out, b);
        return 0;
    }
    /* strnlen: a text of IPW_TEXT_MAX bytes or more is refused unread */
    return ipw_addr_parse_slow(text, strnlen(text, IPW_TEXT_MAX), out);
}

/* Digits only, no sign, no spaces, no leading zero (except "0"). */
static int ipw_parse_prefix(const char *s, unsigned max, unsigned *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 3)
        return -1;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Zero (or check) the bits past the prefix. Returns 1 if any were set. */
static int ipw_clear_host_bits(uint8_t *b, unsigned prefix, unsigned bits)
{
    int set = 0;
    for (unsigned i = prefix; i < bits; i++) {
        uint8_t mask = (uint8_t)(0x80u >> (i % 8));
        if (b[i / 8] & mask)
            set = 1;
        b[i / 8] &= (uint8_t)~mask;
    }
    return set;
}

const char *ipw_cidr_parse(const char *text, int strict, ipw_cidr *out)
{
    memset(out, 0, sizeof(*out));
    if (!text || !*text)
        return "empty address";
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    /* Parse the raw family first: a mapped block's prefix counts from the
     * start of the IPv6 address. */
    int v6 = memchr(text, ':', alen) != NULL;
    unsigned bits = v6 ? 128 : 32;
    unsigned prefix = bits;
    if (ipw_addr_parse(text, alen, &out->addr) != 0)
        return "not an IPv4 or IPv6 address";
    if (slash && ipw_parse_prefix(slash + 1, bits, &prefix) != 0)
        return v6 ? "prefix length must be 0 to 128"
                  : "prefix length must be 0 to 32";
    if (v6 && out->addr.family == 4) {
        if (prefix < 96) {
            /* Covers more than the mapped range: keep it IPv6 (it then
             * matches native IPv6 clients only). */
            out->addr.family = 6;
            memmove(out->addr.b + 12, out->addr.b, 4);
            memcpy(out->addr.b, ipw_mapped_prefix, 12);
        } else {
            prefix -= 96;
            bits = 32;
        }
    }
    if (ipw_clear_host_bits(out->addr.b, prefix, bits) && strict)
        return "host bits are set past the prefix length";
    out->prefix = prefix;
    return NULL;
}

int ipw_cidr_contains(const ipw_cidr *c, const ipw_addr *a)
{
    if (c->addr.family != a->family)
        return 0;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr.b, a->b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (c->addr.b[full] & mask) == (a->b[full] & mask);
}

void ipw_cidr_range(const ipw_cidr *c, uint8_t lo[16], uint8_t hi[16])
{
    unsigned bits = c->addr.family == 4 ? 32 : 128;
    memcpy(lo, c->addr.b, 16);
    memcpy(hi, c->addr.b, 16);
    for (unsigned i = c->prefix; i < bits; i++)
        hi[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

const char *ipw_addr_text(const ipw_addr *a, char *buf, size_t cap)
{
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, buf,
                   (socklen_t)cap))
        return "?";
    return buf;
}
