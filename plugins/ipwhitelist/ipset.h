/* ipset.h: a set of CIDR blocks as sorted, disjoint address ranges, one
 * array per family. A lookup is a binary search: about 14 comparisons for
 * 10,000 blocks, no allocation. Read-only once built. */
#ifndef MCPAUTH_IPSET_H
#define MCPAUTH_IPSET_H

#include "ipaddr.h"

typedef struct ipw_range {
    uint8_t lo[16];
    uint8_t hi[16];
} ipw_range;

typedef struct ipw_set {
    ipw_range *r[2];   /* [0] IPv4, [1] IPv6 */
    size_t n[2];
    size_t cap[2];
} ipw_set;

/* Add a block. 0, or -1 when out of memory. */
int ipw_set_add(ipw_set *s, const ipw_cidr *c);

/* Sort and merge; call once after the last add, before any lookup. */
void ipw_set_finish(ipw_set *s);

/* Does any block hold the address? */
int ipw_set_contains(const ipw_set *s, const ipw_addr *a);

/* Ranges held after merging (for tests and diagnostics). */
size_t ipw_set_size(const ipw_set *s);

void ipw_set_free(ipw_set *s);

#endif
