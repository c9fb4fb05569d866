/* ipset.c: see ipset.h. */
#include "ipset.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

static int ipw_family_index(int family)
{
    return family == 4 ? 0 : 1;
}

int ipw_set_add(ipw_set *s, const ipw_cidr *c)
{
    int f = ipw_family_index(c->addr.family);
    if (s->n[f] == s->cap[f]) {
        size_t cap = s->cap[f] ? s->cap[f] * 2 : 16;
        ipw_range *v = realloc(s->r[f], cap * sizeof(*v));
        if (!v)
            return -1;
        s->r[f] = v;
        s->cap[f] = cap;
    }
    ipw_cidr_range(c, s->r[f][s->n[f]].lo, s->r[f][s->n[f]].hi);
    s->n[f]++;
    return 0;
}

static int ipw_range_cmp(const void *a, const void *b)
{
    const ipw_range *x = a, *y = b;
    int d = memcmp(x->lo, y->lo, 16);
    return d ? d : memcmp(y->hi, x->hi, 16); /* wider block first */
}

/* Two CIDR blocks are either disjoint or nested, so after sorting by start
 * a block that starts inside the previous range lies wholly inside it. The
 * max() keeps the merge right even so. */
static size_t ipw_merge(ipw_range *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), ipw_range_cmp);
    size_t out = 0;
    for (size_t i = 1; i < n; i++) {
        if (memcmp(v[i].lo, v[out].hi, 16) <= 0) {
            if (memcmp(v[i].hi, v[out].hi, 16) > 0)
                memcpy(v[out].hi, v[i].hi, 16);
        } else {
            v[++out] = v[i];
        }
    }
    return out + 1;
}

void ipw_set_finish(ipw_set *s)
{
    for (int f = 0; f < 2; f++)
        s->n[f] = ipw_merge(s->r[f], s->n[f]);
}

/* memcmp(a, b, 16) <= 0 for two addresses in network order, as two
 * big-endian 64-bit words. Performance: this runs at every step of the
 * search below, on every check; three calls of libc's memcmp were ~100
 * instructions of a `full` decision (callgrind). */
static int ipw_addr_le(const uint8_t *a, const uint8_t *b)
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    a0 = be64toh(a0), a1 = be64toh(a1), b0 = be64toh(b0), b1 = be64toh(b1);
    return a0 < b0 || (a0 == b0 && a1 <= b1);
}

int ipw_set_contains(const ipw_set *s, const ipw_addr *a)
{
    int f = ipw_family_index(a->family);
    const ipw_range *v = s->r[f];
    size_t lo = 0, hi = s->n[f];
    /* Find the last range whose start is <= a; only it can hold a. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ipw_addr_le(v[mid].lo, a->b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && ipw_addr_le(a->b, v[lo - 1].hi);
}

size_t ipw_set_size(const ipw_set *s)
{
    return s->n[0] + s->n[1];
}

void ipw_set_free(ipw_set *s)
{
    if (!s)
        return;
    free(s->r[0]);
    free(s->r[1]);
    memset(s, 0, sizeof(*s));
}
