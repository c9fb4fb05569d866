/* test_policy.c: every way a policy can be refused, and the message that
 * says where (file:line:col) and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"

static char *dir;
static const char *sdir;

static int setup(void)
{
    dir = tu_mkdtemp();
    sdir = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    return sdir ? 0 : 1;
}

static int teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    return 0;
}

/* Open `text` written as policy.yaml; expect failure whose message
 * contains each of the NULL-terminated fragments. */
static void expect_refused(const char *text, const char *const *frags)
{
    char *p = tu_write(dir, "policy.yaml", text);
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_status st = mcpauth_open(&a, p, &err);
    CU_ASSERT_NOT_EQUAL(st, MCPAUTH_OK);
    CU_ASSERT_PTR_NULL(a);
    for (size_t i = 0; st != MCPAUTH_OK && frags[i]; i++) {
        int found = strstr(err.message, frags[i]) != NULL;
        if (!found)
            fprintf(stderr, "\nmissing '%s' in: %s\n", frags[i], err.message);
        CU_ASSERT_TRUE(found);
    }
    mcpauth_close(a);
    free(p);
}

/* The policy `text` loads. */
static void expect_loads(const char *text)
{
    char *p = tu_write(dir, "policy.yaml", text);
    mcpauth *a = NULL;
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_open(&a, p, &err), MCPAUTH_OK);
    mcpauth_close(a);
    free(p);
}

#define REFUSED(text, ...)                                                     \
    do {                                                                       \
        const char *const f_[] = { __VA_ARGS__, NULL };                        \
        expect_refused(text, f_);                                              \
    } while (0)

static char *script_entry(const char *control, const char *config)
{
    return tu_fmt("  - plugin: %s/mcpauth_script.so\n    control: %s\n%s%s%s", sdir, control,
                  config ? "    config: " : "", config ? config : "", config ? "\n" : "");
}

static void test_yaml_syntax(void)
{
    REFUSED("version: 1\nstack: [\n", "policy.yaml:3:1:", "did not find expected node");
    REFUSED("version: 1\n  stack: x\n", "policy.yaml:2:", "mapping values");
    REFUSED("", "policy.yaml:1:1:", "empty");
    REFUSED("version: 1\nstack: []\nversion: 1\n", "policy.yaml:3:1:", "duplicate key 'version'");
}

static void test_top_level(void)
{
    REFUSED("stack: []\n", "policy.yaml:1:1:", "version: 1");
    REFUSED("version: 2\nstack: []\n", "policy.yaml:1:10:", "unsupported policy version '2'");
    REFUSED("version: 1\n", "policy.yaml:1:1:", "needs a 'stack' list");
    REFUSED("version: 1\nstack: {}\n", "policy.yaml:2:8:", "'stack' must be a list");
    REFUSED("version: 1\nstak: []\nstack: []\n", "policy.yaml:2:1:", "unknown key 'stak'");
    REFUSED("version: 1\nlimits: { max_request_bytes: -5 }\nstack: []\n", "policy.yaml:2:30:",
            "positive integer");
    REFUSED("version: 1\nlimits: { max_bytes: 5 }\nstack: []\n", "policy.yaml:2:11:",
            "unknown key 'max_bytes'");
    REFUSED("version: 1\nplugin_dirs: /x\nstack: []\n", "policy.yaml:2:14:", "must be a list");
    REFUSED("- a\n- b\n", "policy.yaml:1:1:", "must be a map");
}

static void test_entries(void)
{
    char *e = script_entry("sometimes", "{ vote: allow }");
    char *y = tu_fmt("version: 1\nstack:\n%s", e);
    REFUSED(y, "policy.yaml:4:14:", "unknown control flag 'sometimes'");
    free(y);
    free(e);
    REFUSED("version: 1\nstack:\n  - plugin: x\n", "policy.yaml:3:5:", "needs 'control'");
    REFUSED("version: 1\nstack:\n  - control: required\n", "policy.yaml:3:5:", "needs 'plugin'");
    REFUSED("version: 1\nstack:\n  - just a string\n", "policy.yaml:3:5:", "must be a map");
    REFUSED("version: 1\nstack:\n  - plugin: x\n    control: required\n    colour: red\n",
            "policy.yaml:5:5:", "unknown key 'colour'");
    REFUSED("version: 1\nstack:\n  - plugin: x\n    include: y.yaml\n    control: required\n",
            "policy.yaml:3:5:", "not both");
    REFUSED("version: 1\nstack:\n  - plugin: x\n    control: required\n    config: [1]\n",
            "policy.yaml:5:13:", "'config' must be a map");
}

static void test_plugin_not_found(void)
{
    char *y = tu_fmt("version: 1\nplugin_dirs: [%s/nowhere]\nstack:\n"
                     "  - plugin: nosuchplugin\n    control: required\n", dir);
    char *searched = tu_fmt("%s/nowhere", dir);
    REFUSED(y, "policy.yaml:4:13:", "plugin 'nosuchplugin': not found",
            "mcpauth_nosuchplugin.so", searched);
    free(searched);
    free(y);
    REFUSED("version: 1\nstack:\n  - plugin: ./missing.so\n    control: required\n",
            "policy.yaml:3:13:", "missing.so", "No such file");
    REFUSED("version: 1\nstack:\n  - plugin: 'bad name!'\n    control: required\n",
            "policy.yaml:3:13:", "letters, digits");
}

/* MCPAUTH_PLUGIN_PATH as the test found it, to put back afterwards. */
static char *env_save(void)
{
    const char *v = getenv("MCPAUTH_PLUGIN_PATH");
    return v ? tu_fmt("%s", v) : NULL;
}

static void env_restore(char *saved)
{
    if (saved)
        setenv("MCPAUTH_PLUGIN_PATH", saved, 1);
    else
        unsetenv("MCPAUTH_PLUGIN_PATH");
    free(saved);
}

/* A copy of the scripted plugin as <dir>/<sub>/mcpauth_script.so. Modes the
 * loader trusts: a 0700 directory and a 0755 file. Returns the file's path. */
static char *script_copy(const char *sub)
{
    char *d = tu_fmt("%s/%s", dir, sub);
    mkdir(d, 0700);
    char *cmd = tu_fmt("cp %s/mcpauth_script.so %s/", sdir, d);
    CU_ASSERT_EQUAL(system(cmd), 0);
    char *so = tu_fmt("%s/mcpauth_script.so", d);
    chmod(so, 0755);
    free(cmd);
    free(d);
    return so;
}

/* Open `text` as policy.yaml and return the file its first entry was
 * loaded from (caller frees), having checked that this copy runs and
 * allows; NULL when the policy is refused. */
static char *first_plugin_file(const char *text)
{
    char *p = tu_write(dir, "policy.yaml", text), *so = NULL;
    mcpauth *a = NULL;
    mcpauth_error err;
    const char *label, *path;
    mcpauth_control c;
    if (mcpauth_open(&a, p, &err) != MCPAUTH_OK)
        fprintf(stderr, "\n%s\n", err.message);
    else if (mcpauth_stack_entry(a, 0, &label, &c, &path) == MCPAUTH_OK)
        so = tu_fmt("%s", path);
    if (a) {
        mcpauth_request req = MCPAUTH_REQUEST_INIT;
        mcpauth_decision d;
        mcpauth_check(a, &req, &d);
        CU_ASSERT_TRUE(d.allowed);
    }
    mcpauth_close(a);
    free(p);
    return so;
}

static void expect_plugin_file(const char *text, const char *want)
{
    char *so = first_plugin_file(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(so);
    if (strcmp(so, want))
        fprintf(stderr, "\nloaded %s, expected %s\n", so, want);
    CU_ASSERT_STRING_EQUAL(so, want);
    free(so);
}

/* The same plugin name in a plugin_dirs directory and in a
 * MCPAUTH_PLUGIN_PATH directory: plugin_dirs is searched first. */
static void test_plugin_search_order(void)
{
    char *saved = env_save();
    char *pd_so = script_copy("pd"), *env_so = script_copy("envd");
    /* An empty element and a missing directory are passed over. */
    char *env = tu_fmt("%s/nowhere::%s/envd", dir, dir);
    setenv("MCPAUTH_PLUGIN_PATH", env, 1);
    const char *stack = "stack:\n  - plugin: script\n    control: required\n"
                        "    config: { vote: allow }\n";
    char *with_dirs = tu_fmt("version: 1\nplugin_dirs: [pd]\n%s", stack);
    char *without = tu_fmt("version: 1\n%s", stack);
    expect_plugin_file(with_dirs, pd_so);
    expect_plugin_file(without, env_so);
    /* Missing from plugin_dirs: the search goes on to the environment. */
    unlink(pd_so);
    expect_plugin_file(with_dirs, env_so);
    /* In neither: every directory searched is named, in search order. */
    unlink(env_so);
    char *order = tu_fmt("in: %s/pd, %s/nowhere, %s/envd, ", dir, dir, dir);
    REFUSED(with_dirs, "policy.yaml:4:13:", "plugin 'script': not found", order);
    /* With the variable unset, its directories are not searched. */
    unsetenv("MCPAUTH_PLUGIN_PATH");
    char *pd_only = tu_fmt("in: %s/pd, ", dir);
    REFUSED(with_dirs, "plugin 'script': not found", pd_only);
    char *p = tu_write(dir, "policy.yaml", with_dirs);
    mcpauth *a = NULL;
    mcpauth_error err;
    CU_ASSERT_NOT_EQUAL(mcpauth_open(&a, p, &err), MCPAUTH_OK);
    CU_ASSERT_PTR_NULL(strstr(err.message, "envd"));
    env_restore(saved);
    free(p);
    free(pd_only);
    free(order);
    free(without);
    free(with_dirs);
    free(env);
    free(env_so);
    free(pd_so);
}

/* More directories than the message has room for, and more than the
 * loader searches: the message says how many it left out. */
static void test_plugin_not_found_long_path(void)
{
    char *saved = env_save();
    unsetenv("MCPAUTH_PLUGIN_PATH");
    char *y = tu_fmt("version: 1\nplugin_dirs: [");
    for (int i = 0; i < 70; i++) {
        char *next = tu_fmt("%s%sd%02d-%s", y, i ? ", " : "", i,
                            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        free(y);
        y = next;
    }
    char *text = tu_fmt("%s]\nstack:\n  - plugin: nosuchplugin\n    control: required\n", y);
    char *first = tu_fmt("in: %s/d00-xxx", dir);
    /* 70 plugin_dirs, the library's directory and the install directory:
     * 64 searched, 8 not. */
    REFUSED(text, "plugin 'nosuchplugin': not found", first, "d01-xxx", ", ... and ",
            " more; not searched: 8 more past the first 64)");
    env_restore(saved);
    free(first);
    free(text);
    free(y);
}

static void test_plugin_abi_and_entry(void)
{
    char *y = tu_fmt("version: 1\nstack:\n  - plugin: %s/mcpauth_badabi.so\n    control: required\n", sdir);
    REFUSED(y, "policy.yaml:3:13:", "ABI version 42", "rebuild");
    free(y);
    y = tu_fmt("version: 1\nstack:\n  - plugin: %s/mcpauth_noentry.so\n    control: required\n", sdir);
    REFUSED(y, "policy.yaml:3:13:", "does not export mcpauth_plugin_entry");
    free(y);
    /* Found by name through plugin_dirs. */
    y = tu_fmt("version: 1\nplugin_dirs: [%s]\nstack:\n  - plugin: badabi\n    control: required\n", sdir);
    REFUSED(y, "policy.yaml:4:13:", "ABI version 42");
    free(y);
    /* A descriptor shorter than the first ABI's is refused; one of exactly
     * that size (a plugin built before `flags` existed) loads. */
    y = tu_fmt("version: 1\nstack:\n  - plugin: %s/mcpauth_tinysize.so\n    control: required\n", sdir);
    REFUSED(y, "policy.yaml:3:13:", "descriptor too small");
    free(y);
    y = tu_fmt("version: 1\nstack:\n  - plugin: %s/mcpauth_oldsize.so\n    control: required\n", sdir);
    expect_loads(y);
    free(y);
}

static void test_plugin_config_errors(void)
{
    char *e = script_entry("required", "{ vote: perhaps }");
    char *y = tu_fmt("version: 1\nstack:\n%s", e);
    REFUSED(y, "policy.yaml:5:21:", "vote", "must be allow, deny");
    free(y);
    free(e);
    e = script_entry("required", "{ vote: allow, colour: red }");
    y = tu_fmt("version: 1\nstack:\n%s", e);
    REFUSED(y, "policy.yaml:5:28:", "unknown key 'colour'");
    free(y);
    free(e);
    e = script_entry("required", "{ fail_create: \"the moon is full\" }");
    y = tu_fmt("version: 1\nstack:\n%s", e);
    REFUSED(y, "policy.yaml:5:", "the moon is full");
    free(y);
    free(e);
    e = script_entry("required", "{ retry_after: soon }");
    y = tu_fmt("version: 1\nstack:\n%s", e);
    REFUSED(y, "policy.yaml:5:28:", "must be an integer");
    free(y);
    free(e);
}

static void test_includes(void)
{
    char *e = script_entry("required", "{ vote: allow }");
    char *inc = tu_fmt("stack:\n%s", e);
    free(tu_write(dir, "inc.yaml", inc));
    char *p = tu_write(dir, "policy.yaml", "version: 1\nstack:\n  - include: inc.yaml\n");
    mcpauth *a = NULL;
    mcpauth_error err;
    mcpauth_status st = mcpauth_open(&a, p, &err);
    if (st)
        fprintf(stderr, "\n%s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(st, MCPAUTH_OK);
    CU_ASSERT_EQUAL(mcpauth_stack_size(a), 1);
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_check(a, &req, &d);
    CU_ASSERT_TRUE(d.allowed);
    mcpauth_close(a);
    free(p);
    free(inc);
    free(e);

    free(tu_write(dir, "a.yaml", "stack:\n  - include: b.yaml\n"));
    free(tu_write(dir, "b.yaml", "stack:\n  - include: a.yaml\n"));
    REFUSED("version: 1\nstack:\n  - include: a.yaml\n", "b.yaml:2:14:", "include cycle");
    REFUSED("version: 1\nstack:\n  - include: policy.yaml\n", "policy.yaml:3:14:", "include cycle");
    REFUSED("version: 1\nstack:\n  - include: nothere.yaml\n", "policy.yaml:3:14:", "cannot read");
    free(tu_write(dir, "c.yaml", "stack: []\nlimits: {}\n"));
    REFUSED("version: 1\nstack:\n  - include: c.yaml\n", "c.yaml:2:1:", "unknown key 'limits'");
}

static void test_unsafe_plugin_refused(void)
{
    char *sub = tu_fmt("%s/plugins", dir);
    mkdir(sub, 0700);
    char *cmd = tu_fmt("cp %s/mcpauth_script.so %s/", sdir, sub);
    CU_ASSERT_EQUAL(system(cmd), 0);
    char *so = tu_fmt("%s/mcpauth_script.so", sub);
    chmod(so, 0666);
    char *y = tu_fmt("version: 1\nplugin_dirs: [plugins]\nstack:\n  - plugin: script\n"
                     "    control: required\n    config: { vote: allow }\n");
    REFUSED(y, "policy.yaml:4:13:", "refusing", "0666");
    chmod(so, 0755);
    chmod(sub, 0777);
    REFUSED(y, "refusing", sub, "0777");
    chmod(sub, 0700);
    expect_loads(y);
    free(y);
    free(so);
    free(cmd);
    free(sub);
}

static void test_policy_file_safety(void)
{
    /* Whoever can write the policy decides who gets in. */
    char *p = tu_write(dir, "open.yaml", "version: 1\nstack: []\n");
    chmod(p, 0666);
    mcpauth *a = NULL;
    mcpauth_error err;
    CU_ASSERT_EQUAL(mcpauth_open(&a, p, &err), MCPAUTH_EPERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "permissions 0666"));
    chmod(p, 0644);
    CU_ASSERT_EQUAL(mcpauth_open(&a, p, &err), MCPAUTH_OK);
    mcpauth_close(a);
    free(p);
    /* An include that others may write is refused the same way. */
    p = tu_write(dir, "inc-open.yaml", "stack: []\n");
    chmod(p, 0622);
    REFUSED("version: 1\nstack:\n  - include: inc-open.yaml\n", "inc-open.yaml", "0622");
    free(p);
    /* Deep flow nesting is refused before libyaml's quadratic scanner. */
    size_t n = 200000;
    char *deep = malloc(2 * n + 64);
    strcpy(deep, "version: 1\nstack: []\nx: ");
    size_t len = strlen(deep);
    memset(deep + len, '[', n);
    memset(deep + len + n, ']', n);
    deep[len + 2 * n] = '\0';
    REFUSED(deep, "policy.yaml:3:68:", "nested deeper than 64");
    free(deep);
    REFUSED("version: 1\nstack: []\nx: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['\n",
            "policy.yaml:3:1:", "unknown key 'x'");
}

static void test_alias_bomb(void)
{
    REFUSED("version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
            "stack: []\n",
            "policy.yaml:", "too deep or too large");
}

static int add(void)
{
    CU_pSuite s = CU_add_suite("policy", setup, teardown);
    return !s || !CU_add_test(s, "YAML syntax errors", test_yaml_syntax) ||
           !CU_add_test(s, "top-level keys", test_top_level) ||
           !CU_add_test(s, "stack entries", test_entries) ||
           !CU_add_test(s, "plugin not found lists the search path", test_plugin_not_found) ||
           !CU_add_test(s, "plugin_dirs before MCPAUTH_PLUGIN_PATH", test_plugin_search_order) ||
           !CU_add_test(s, "a long search path is cut with a count",
                        test_plugin_not_found_long_path) ||
           !CU_add_test(s, "ABI mismatch and missing entry point", test_plugin_abi_and_entry) ||
           !CU_add_test(s, "plugin config errors", test_plugin_config_errors) ||
           !CU_add_test(s, "includes and include cycles", test_includes) ||
           !CU_add_test(s, "plugins others may write are refused", test_unsafe_plugin_refused) ||
           !CU_add_test(s, "alias expansion bomb", test_alias_bomb) ||
           !CU_add_test(s, "writable policies and deep nesting refused", test_policy_file_safety);
}

int main(void) { return tu_main(add); }
