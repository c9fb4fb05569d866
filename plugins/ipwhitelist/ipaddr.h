/* ipaddr.h: IPv4 and IPv6 addresses and CIDR blocks, parsed without
 * allocation. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) and a CIDR block
 * inside ::ffff:0:0/96 are turned into their IPv4 form, so that they match
 * IPv4 rules and only those. */
#ifndef MCPAUTH_IPADDR_H
#define MCPAUTH_IPADDR_H

#include <stddef.h>
#include <stdint.h>

#define IPW_TEXT_MAX 64 /* longest address text accepted, with the NUL */
#define IPW_V4_TEXT_MAX 16 /* "255.255.255.255" and its NUL */

typedef struct ipw_addr {
    int family;        /* 4 or 6 */
    uint8_t b[16];     /* network order; IPv4 uses b[0..3], the rest is 0 */
} ipw_addr;

typedef struct ipw_cidr {
    ipw_addr addr;     /* host bits are zero */
    unsigned prefix;   /* 0..32 or 0..128 */
} ipw_cidr;

/* Parse the `len` bytes at `text` as one address (no prefix). 0 or -1. */
int ipw_addr_parse(const char *text, size_t len, ipw_addr *out);

/* The same for a NUL-terminated text, as ipw_addr_parse(text, strlen(text),
 * out) but without the strlen: plain dotted IPv4 is parsed in one pass, and
 * nothing past the NUL, nor past IPW_TEXT_MAX bytes, is read. 0 or -1. */
int ipw_addr_parse_str(const char *text, ipw_addr *out);

/* Parse "address" or "address/prefix". With `strict`, set host bits are an
 * error (a likely typo in a policy); without, they are cleared. Returns NULL
 * on success, else a static text saying what is wrong. */
const char *ipw_cidr_parse(const char *text, int strict, ipw_cidr *out);

/* Does the block hold the address? Families must agree. */
int ipw_cidr_contains(const ipw_cidr *c, const ipw_addr *a);

/* The block's first and last address. */
void ipw_cidr_range(const ipw_cidr *c, uint8_t lo[16], uint8_t hi[16]);

/* Text form of an address into buf (at least IPW_TEXT_MAX bytes). */
const char *ipw_addr_text(const ipw_addr *a, char *buf, size_t cap);

#endif
