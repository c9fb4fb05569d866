/* patset.h: a compiled set of glob patterns ('*' any run, '?' one byte),
 * matched without allocation. Literal patterns sit in a sorted table found
 * by binary search; only real globs are tried one by one. */
#ifndef MCPAUTH_ROLE_PATSET_H
#define MCPAUTH_ROLE_PATSET_H

#include <stddef.h>

/* The shapes a glob is matched by. Most patterns in a policy are a prefix
 * (`get_*`) or a suffix (`*_status`); those need one comparison of known
 * length instead of the general matcher's scan with backtracking. */
typedef enum { ROLE_GLOB_PREFIX, ROLE_GLOB_SUFFIX, ROLE_GLOB_GENERAL } role_glob_kind;

typedef struct role_glob {
    const char *fix;     /* PREFIX, SUFFIX: the literal part; GENERAL: the pattern */
    size_t len;          /* strlen of the literal part (PREFIX, SUFFIX) */
    role_glob_kind kind;
} role_glob;

typedef struct role_patset {
    const char **lits;  /* sorted, unique, no wildcard (borrowed) */
    size_t nlits;
    const char **globs; /* unique, each holding '*' or '?' (borrowed) */
    size_t nglobs;
    role_glob *compiled; /* globs[i] compiled, in the same order */
    int any;         /* holds "*" (or "**"...): matches every string */
} role_patset;

/* Does glob `pat` match all of `s`? Iterative, one backtrack point, so the
 * cost is at most strlen(pat) * strlen(s) steps and there is no recursion. */
int role_glob_match(const char *pat, const char *s);

/* Is `pat` acceptable as a pattern? Returns NULL or why not (static text). */
const char *role_pattern_problem(const char *pat);

/* Build a set from n patterns (duplicates allowed). The set borrows the
 * strings, which must outlive it. 0, or -1 on ENOMEM. */
int role_patset_build(role_patset *set, const char *const *pats, size_t n);

/* Does any pattern of the set match s? An empty set matches nothing. */
int role_patset_match(const role_patset *set, const char *s);

/* Number of patterns held (for diagnostics). */
size_t role_patset_size(const role_patset *set);

void role_patset_free(role_patset *set);

#endif
