/* rl_testutil.c: see rl_testutil.h. */
#include "rl_testutil.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* One policy directory at a time is enough for these suites. */
static char *rlt_dir;

static const char *rlt_plugins_dir(void)
{
    const char *d = getenv("MCPAUTH_TEST_SCRIPT_DIR");
    return d && *d ? d : ".";
}

/* yaml with every `from` replaced by `to`; caller frees. */
static char *rlt_replace(const char *yaml, const char *from, const char *to)
{
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *p = strstr(yaml, from); p; p = strstr(p + fl, from))
        n++;
    char *out = malloc(strlen(yaml) + n * tl + 1), *o = out;
    const char *p = yaml, *q;
    while ((q = strstr(p, from))) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    return out;
}

mcpauth *rlt_open(const char *yaml, mcpauth_error *err)
{
    char *fake = tu_fmt("%s/mcpauth_rl_fakeauth.so", rlt_plugins_dir());
    char *script = tu_fmt("%s/mcpauth_script.so", rlt_plugins_dir());
    char *y1 = rlt_replace(yaml, "@FAKEAUTH@", fake);
    char *y2 = rlt_replace(y1, "@SCRIPT@", script);
    rlt_dir = tu_mkdtemp();
    char *path = tu_write(rlt_dir, "policy.yaml", y2);
    mcpauth *a = NULL;
    if (mcpauth_open(&a, path, err) != MCPAUTH_OK) {
        a = NULL;
        tu_rmtree(rlt_dir);
        free(rlt_dir);
        rlt_dir = NULL;
    }
    free(path);
    free(y2);
    free(y1);
    free(script);
    free(fake);
    return a;
}

void rlt_close(mcpauth *a)
{
    mcpauth_close(a);
    tu_rmtree(rlt_dir);
    free(rlt_dir);
    rlt_dir = NULL;
}

static mcpauth_decision rlt_run(mcpauth *a, const char *cred, const char *ip,
                                int64_t now_ms, unsigned flags)
{
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    req.credential = cred;
    req.client_ip = ip;
    req.method = "tools/call";
    req.tool = "ping";
    req.transport = "http";
    req.now_ms = now_ms;
    memset(&d, 0, sizeof(d));
    (void)mcpauth_check_ex(a, &req, flags, &d, NULL, 0, NULL);
    return d;
}

mcpauth_decision rlt_check(mcpauth *a, const char *cred, const char *ip,
                           int64_t now_ms)
{
    return rlt_run(a, cred, ip, now_ms, 0);
}

mcpauth_decision rlt_dry(mcpauth *a, const char *cred, const char *ip,
                         int64_t now_ms)
{
    return rlt_run(a, cred, ip, now_ms, MCPAUTH_CHECK_DRY_RUN);
}
