/* patset.c: see patset.h. */
#include "patset.h"

#include <stdlib.h>
#include <string.h>

int role_glob_match(const char *pat, const char *s)
{
    /* On a mismatch after a '*', retry with the star eating one more byte.
     * Only the latest star matters: an earlier one could only eat bytes the
     * later one can eat too, so a single backtrack point is enough. */
    const char *star = NULL;
    const char *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat != '\0' && (*pat == '?' || *pat == *s)) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

const char *role_pattern_problem(const char *pat)
{
    if (!pat || !*pat)
        return "an empty pattern matches nothing";
    for (const unsigned char *p = (const unsigned char *)pat; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "a pattern may not hold control characters";
    return NULL;
}

static int role_is_glob(const char *p)
{
    return strpbrk(p, "*?") != NULL;
}

static int role_is_any(const char *p)
{
    return p[strspn(p, "*")] == '\0';
}

static int role_strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort v and drop duplicates in place; returns the new length. */
static size_t role_sort_unique(const char **v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), role_strcmp_ptr);
    size_t out = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i], v[out - 1]) != 0)
            v[out++] = v[i];
    return out;
}

/* `abc*` (stars only at the end) is a PREFIX, `*abc` a SUFFIX; anything
 * with '?', an inner star or stars at both ends is GENERAL. */
static role_glob role_glob_compile(const char *pat)
{
    size_t lead = strspn(pat, "*");
    size_t lit = strcspn(pat + lead, "*?");
    const char *rest = pat + lead + lit;
    role_glob g = { pat, 0, ROLE_GLOB_GENERAL };
    if (lead == 0 && rest[strspn(rest, "*")] == '\0' && *rest == '*')
        g = (role_glob){ pat, lit, ROLE_GLOB_PREFIX };
    else if (lead > 0 && *rest == '\0')
        g = (role_glob){ pat + lead, lit, ROLE_GLOB_SUFFIX };
    return g;
}

int role_patset_build(role_patset *set, const char *const *pats, size_t n)
{
    memset(set, 0, sizeof(*set));
    set->lits = calloc(n ? n : 1, sizeof(char *));
    set->globs = calloc(n ? n : 1, sizeof(char *));
    set->compiled = calloc(n ? n : 1, sizeof(role_glob));
    if (!set->lits || !set->globs || !set->compiled) {
        role_patset_free(set);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (role_is_any(pats[i]))
            set->any = 1;
        else if (role_is_glob(pats[i]))
            set->globs[set->nglobs++] = pats[i];
        else
            set->lits[set->nlits++] = pats[i];
    }
    set->nlits = role_sort_unique(set->lits, set->nlits);
    set->nglobs = role_sort_unique(set->globs, set->nglobs);
    for (size_t i = 0; i < set->nglobs; i++)
        set->compiled[i] = role_glob_compile(set->globs[i]);
    return 0;
}

/* slen is strlen(s), counted once per set by the caller. */
static int role_glob_hit(const role_glob *g, const char *s, size_t slen)
{
    switch (g->kind) {
    case ROLE_GLOB_PREFIX:
        return slen >= g->len && memcmp(s, g->fix, g->len) == 0;
    case ROLE_GLOB_SUFFIX:
        return slen >= g->len && memcmp(s + slen - g->len, g->fix, g->len) == 0;
    case ROLE_GLOB_GENERAL:
        break;
    }
    return role_glob_match(g->fix, s);
}

int role_patset_match(const role_patset *set, const char *s)
{
    if (set->any)
        return 1;
    if (set->nlits && bsearch(&s, set->lits, set->nlits, sizeof(char *),
                              role_strcmp_ptr))
        return 1;
    size_t slen = set->nglobs ? strlen(s) : 0;
    for (size_t i = 0; i < set->nglobs; i++)
        if (role_glob_hit(&set->compiled[i], s, slen))
            return 1;
    return 0;
}

size_t role_patset_size(const role_patset *set)
{
    return set->nlits + set->nglobs + (set->any ? 1 : 0);
}

void role_patset_free(role_patset *set)
{
    if (!set)
        return;
    free(set->lits);
    free(set->globs);
    free(set->compiled);
    memset(set, 0, sizeof(*set));
}
