/*
 * fakeauth.c: a test plugin standing in for apikey in the ratelimit suites,
 * so that one stack can see many principals and bad keys:
 *   no credential               deny no_credentials
 *   "anon"                      allow, no principal
 *   "good:<key_id>[:<role>]"    allow, principal key_id (and role)
 *   anything else               deny bad_credentials
 */
#include <stdlib.h>
#include <string.h>

#include "mcpauth/plugin.h"

typedef struct fa_principal {
    mcpauth_principal p;
    char buf[256];
} fa_principal;

static mcpauth_status fa_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    (void)config;
    *state = (void *)env->svc;
    return MCPAUTH_OK;
}

/* Copy "id[:role]" into a principal the core may hold until release. */
static fa_principal *fa_parse(const char *rest)
{
    fa_principal *fp = calloc(1, sizeof(*fp));
    if (!fp)
        return NULL;
    strncpy(fp->buf, rest, sizeof(fp->buf) - 1);
    char *colon = strchr(fp->buf, ':');
    if (colon) {
        *colon = '\0';
        fp->p.role = colon + 1;
    }
    fp->p.key_id = fp->buf;
    fp->p.key_name = fp->buf;
    fp->p.key_type = "live";
    return fp;
}

static mcpauth_status fa_vote(void *state, mcpauth_ctx *ctx,
                              const mcpauth_request *req,
                              mcpauth_vote_result *out)
{
    const mcpauth_services *svc = state;
    out->vote = MCPAUTH_VOTE_DENY;
    if (!req->credential) {
        out->reason = MCPAUTH_REASON_NO_CREDENTIALS;
        return MCPAUTH_OK;
    }
    if (!strcmp(req->credential, "anon")) {
        out->vote = MCPAUTH_VOTE_ALLOW;
        return MCPAUTH_OK;
    }
    if (strncmp(req->credential, "good:", 5) != 0) {
        out->reason = MCPAUTH_REASON_BAD_CREDENTIALS;
        return MCPAUTH_OK;
    }
    fa_principal *fp = fa_parse(req->credential + 5);
    if (!fp)
        return MCPAUTH_ENOMEM;
    mcpauth_status st = svc->set_principal(ctx, &fp->p, free, fp);
    if (st != MCPAUTH_OK) {
        free(fp);
        return st;
    }
    out->vote = MCPAUTH_VOTE_ALLOW;
    return MCPAUTH_OK;
}

static void fa_destroy(void *state)
{
    (void)state;
}

static const mcpauth_plugin fa_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "rl_fakeauth",
    "test: principal from the credential text", fa_create, fa_vote, NULL, NULL,
    fa_destroy, 0 /* flags */,
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(fa_plugin)
