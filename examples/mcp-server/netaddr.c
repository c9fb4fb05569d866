/* netaddr.c: parsing and matching addresses for the listener and for the
 * trusted-proxy rule. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* IPv4 becomes ::ffff:a.b.c.d so that one comparison serves both families. */
static int srv_addr16(const char *text, unsigned char out[16], int *is_v4)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, text, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *is_v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        memcpy(out, &a6, 16);
        *is_v4 = 0;
        return 0;
    }
    return -1;
}

int srv_parse_cidr(const char *text, srv_cidr *out)
{
    char host[SRV_ADDR_TEXT_MAX];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    int is_v4 = 0;
    if (hlen == 0 || hlen >= sizeof host)
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (srv_addr16(host, out->addr, &is_v4) != 0)
        return -1;
    unsigned max = is_v4 ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        char *end = NULL;
        long v = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || v < 0 || (unsigned long)v > max)
            return -1;
        bits = (unsigned)v;
    }
    out->bits = is_v4 ? bits + 96 : bits;
    return 0;
}

static int srv_cidr_contains(const srv_cidr *c, const unsigned char a[16])
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (a[full] & mask);
}

int srv_cidr_match(const srv_cidr *list, size_t n, const char *text)
{
    unsigned char a[16];
    int is_v4;
    if (!text || srv_addr16(text, a, &is_v4) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (srv_cidr_contains(&list[i], a))
            return 1;
    return 0;
}

int srv_forwarded_client(const srv_cidr *list, size_t n, const char *ff, char *out,
                         size_t cap)
{
    const char *end = ff + strlen(ff);
    for (;;) {
        const char *start = end;
        while (start > ff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (a == b || (size_t)(b - a) >= cap)
            return -1;
        memcpy(out, a, (size_t)(b - a));
        out[b - a] = '\0';
        unsigned char bytes[16];
        int is_v4;
        if (srv_addr16(out, bytes, &is_v4) != 0)
            return -1; /* garbage where a proxy wrote: believe none of it */
        if (!srv_cidr_match(list, n, out) || start == ff)
            return 0;
        end = start - 1;
    }
}

void srv_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
}

static int srv_parse_port(const char *text, unsigned short *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *out = (unsigned short)v;
    return 0;
}

int srv_parse_listen(const char *text, struct sockaddr_storage *out,
                     socklen_t *len, char *err, size_t cap)
{
    char host[SRV_ADDR_TEXT_MAX];
    const char *port;
    size_t hlen;
    unsigned short p;
    memset(out, 0, sizeof *out);
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            snprintf(err, cap, "'%s': expected [IPV6]:PORT", text);
            return -1;
        }
        hlen = (size_t)(close - text - 1);
        if (hlen >= sizeof host)
            hlen = sizeof host - 1;
        memcpy(host, text + 1, hlen);
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || strchr(text, ':') != colon) {
            snprintf(err, cap, "'%s': expected HOST:PORT (an IPv6 host goes in brackets)", text);
            return -1;
        }
        hlen = (size_t)(colon - text);
        if (hlen >= sizeof host)
            hlen = sizeof host - 1;
        memcpy(host, text, hlen);
        port = colon + 1;
    }
    host[hlen] = '\0';
    if (srv_parse_port(port, &p) != 0) {
        snprintf(err, cap, "'%s': the port must be a number from 0 to 65535", text);
        return -1;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(p);
        *len = sizeof *s4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(p);
        *len = sizeof *s6;
        return 0;
    }
    snprintf(err, cap, "'%s': the host must be a numeric IPv4 or IPv6 address", text);
    return -1;
}
