/* test_patset.c: the role plugin's glob matcher and pattern sets. */
#include <stdlib.h>
#include <string.h>

#include "patset.h"
#include "testutil.h"

typedef struct glob_case {
    const char *pat, *s;
    int match;
} glob_case;

static const glob_case glob_cases[] = {
    { "*", "", 1 },          { "*", "anything/at all", 1 },
    { "", "", 1 },           { "", "x", 0 },
    { "get_*", "get_temp", 1 }, { "get_*", "get_", 1 },
    { "get_*", "set_temp", 0 }, { "get_*", "xget_temp", 0 },
    { "*_status", "device_status", 1 }, { "*_status", "_status", 1 },
    { "*_status", "device_status2", 0 },
    { "?", "a", 1 },         { "?", "", 0 },          { "?", "ab", 0 },
    { "a?c", "abc", 1 },     { "a?c", "ac", 0 },
    { "admin/*", "admin/keys", 1 }, { "admin/*", "admin", 0 },
    { "*a*b*c*", "xxaxxbxxcxx", 1 }, { "*a*b*c*", "xxaxxcxxbxx", 0 },
    { "a*b", "ab", 1 },      { "a*b", "aXbXb", 1 },  { "a*b", "aXbX", 0 },
    { "**", "abc", 1 },      { "*?", "", 0 },         { "*?", "z", 1 },
    { "file:///data/*", "file:///data/a/b.txt", 1 },
    { "file:///data/*", "file:///etc/passwd", 0 },
    { "x", "*", 0 },         { "*", "*", 1 },
    { "get_**", "get_", 1 }, { "get_**", "get", 0 },  { "**_status", "_status", 1 },
    { "**_status", "status", 0 }, { "a*", "", 0 },    { "*a", "", 0 },
    { "*a", "a", 1 },        { "*_status*", "x_status_y", 1 },
    { "*ab", "aab", 1 },     { "*ab", "ba", 0 },      { "ab*", "a", 0 },
    { "get_*?", "get_", 0 }, { "?get_*", "xget_1", 1 },
};

static void test_glob_table(void)
{
    for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
        const glob_case *c = &glob_cases[i];
        int got = role_glob_match(c->pat, c->s);
        if (got != c->match)
            fprintf(stderr, "glob '%s' vs '%s': got %d\n", c->pat, c->s, got);
        CU_ASSERT_EQUAL(got, c->match);
    }
}

/* A set of one glob compiles it to a prefix, suffix or general matcher:
 * every row of the table gives the same answer through the set (sets are
 * built only from patterns the config accepts, so "" is left out). */
static void test_glob_table_compiled(void)
{
    for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
        const glob_case *c = &glob_cases[i];
        if (role_pattern_problem(c->pat))
            continue;
        role_patset set;
        CU_ASSERT_EQUAL_FATAL(role_patset_build(&set, &c->pat, 1), 0);
        int got = role_patset_match(&set, c->s);
        if (got != c->match)
            fprintf(stderr, "set {'%s'} vs '%s': got %d\n", c->pat, c->s, got);
        CU_ASSERT_EQUAL(got, c->match);
        role_patset_free(&set);
    }
}

/* A pattern built to make a backtracking matcher explode still ends. */
static void test_glob_pathological(void)
{
    char pat[64], s[4096];
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    strcpy(pat, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    CU_ASSERT_FALSE(role_glob_match(pat, s));
    s[sizeof(s) - 2] = 'b';
    CU_ASSERT_TRUE(role_glob_match(pat, s));
}

static void test_patset_literals_and_globs(void)
{
    const char *pats[] = { "ping", "tools/list", "ping", "get_*", "a?c" };
    role_patset set;
    CU_ASSERT_EQUAL_FATAL(role_patset_build(&set, pats, 5), 0);
    CU_ASSERT_EQUAL(set.nlits, 2); /* duplicate "ping" dropped */
    CU_ASSERT_EQUAL(set.nglobs, 2);
    CU_ASSERT_TRUE(role_patset_match(&set, "ping"));
    CU_ASSERT_TRUE(role_patset_match(&set, "tools/list"));
    CU_ASSERT_TRUE(role_patset_match(&set, "get_x"));
    CU_ASSERT_TRUE(role_patset_match(&set, "abc"));
    CU_ASSERT_FALSE(role_patset_match(&set, "pin"));
    CU_ASSERT_FALSE(role_patset_match(&set, "tools/call"));
    role_patset_free(&set);
}

static void test_patset_empty_and_any(void)
{
    role_patset set;
    CU_ASSERT_EQUAL_FATAL(role_patset_build(&set, NULL, 0), 0);
    CU_ASSERT_FALSE(role_patset_match(&set, ""));
    CU_ASSERT_FALSE(role_patset_match(&set, "ping"));
    role_patset_free(&set);
    const char *pats[] = { "x", "***" };
    CU_ASSERT_EQUAL_FATAL(role_patset_build(&set, pats, 2), 0);
    CU_ASSERT_TRUE(set.any);
    CU_ASSERT_TRUE(role_patset_match(&set, "anything"));
    role_patset_free(&set);
}

static void test_pattern_problems(void)
{
    CU_ASSERT_PTR_NOT_NULL(role_pattern_problem(""));
    CU_ASSERT_PTR_NOT_NULL(role_pattern_problem("a\tb"));
    CU_ASSERT_PTR_NULL(role_pattern_problem("get_*"));
}

/* Thousands of literal patterns: found by binary search, all of them. */
static void test_patset_many(void)
{
    enum { N = 5000 };
    char **names = calloc(N, sizeof(char *));
    for (int i = 0; i < N; i++)
        names[i] = tu_fmt("tool_%05d", (i * 7919) % N);
    role_patset set;
    CU_ASSERT_EQUAL_FATAL(role_patset_build(&set, (const char **)names, N), 0);
    CU_ASSERT_EQUAL(set.nlits, N);
    int all = 1;
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "tool_%05d", i);
        all &= role_patset_match(&set, name);
    }
    CU_ASSERT_TRUE(all);
    CU_ASSERT_FALSE(role_patset_match(&set, "tool_99999"));
    role_patset_free(&set);
    for (int i = 0; i < N; i++)
        free(names[i]);
    free(names);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("role_patset", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "glob table", test_glob_table);
    CU_add_test(s, "glob table through compiled sets", test_glob_table_compiled);
    CU_add_test(s, "glob pathological", test_glob_pathological);
    CU_add_test(s, "literals and globs", test_patset_literals_and_globs);
    CU_add_test(s, "empty and any", test_patset_empty_and_any);
    CU_add_test(s, "pattern problems", test_pattern_problems);
    CU_add_test(s, "many literals", test_patset_many);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
