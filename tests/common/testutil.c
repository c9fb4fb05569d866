/* testutil.c: see testutil.h. */
#include "testutil.h"

#include "mcpauth/mcpauth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

char *tu_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

char *tu_mkdtemp(void)
{
    const char *t = getenv("TMPDIR");
    char *p = tu_fmt("%s/mcpauth-test-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(p))
        abort();
    chmod(p, 0700);
    return p;
}

void tu_rmtree(const char *dir)
{
    if (!dir)
        return;
    char *cmd = tu_fmt("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    free(cmd);
}

char *tu_write(const char *dir, const char *name, const char *text)
{
    char *p = tu_fmt("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    chmod(p, 0600);
    return p;
}

char *tu_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int tu_run(const char *cmd, char **out)
{
    char *full = tu_fmt("%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void tu_rmtree_unless_kept(char *dir)
{
    if (!getenv("KEEP_TEST_DIR"))
        tu_rmtree(dir);
    else
        fprintf(stderr, "kept %s\n", dir);
    free(dir);
}

const char *tu_plugin_dir(void)
{
    const char *d = getenv("MCPAUTH_TEST_PLUGIN_DIR");
    return d ? d : "build/lib/mcpauth";
}

const char *tu_script_so(void)
{
    static char path[1024];
    const char *d = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    snprintf(path, sizeof(path), "%s/mcpauth_script.so", d ? d : "build/tests/plugins");
    return path;
}

void tu_expect_config_error(const char *dir, const char *plugin, const char *config,
                            const char *where, const char *what)
{
    char *yaml = tu_fmt("version: 1\n"
                        "stack:\n"
                        "  - plugin: %s\n"
                        "    control: required\n"
                        "    config:\n"
                        "%s",
                        plugin, config);
    char *path = tu_write(dir, "bad.yaml", yaml);
    mcpauth *a = NULL;
    mcpauth_error err;
    memset(&err, 0, sizeof(err));
    CU_ASSERT_NOT_EQUAL(mcpauth_open(&a, path, &err), MCPAUTH_OK);
    CU_ASSERT_PTR_NULL(a);
    char *want = tu_fmt("bad.yaml:%s", where);
    if (!strstr(err.message, want) || !strstr(err.message, what))
        fprintf(stderr, "expected '%s' and '%s' in: %s\n", want, what, err.message);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
    mcpauth_close(a);
    free(want);
    free(yaml);
    free(path);
}

int tu_main(int (*add)(void))
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (add() != 0) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
