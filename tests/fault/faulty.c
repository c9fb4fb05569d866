/* faulty.c: a test plugin that fails on purpose, for the fault-injection
 * suite. Built twice: flavour "a" (votes allow) and flavour "b" (votes deny
 * forbidden), so that a test can swap one file for the other under a loaded
 * policy and see which code answers.
 *
 *   config: { record: /path/file,   # appends "create|destroy|observe LABEL"
 *             fail_create: "text",  # allocate, then fail create (no leak)
 *             abort_create: true }  # abort() in create: plugins run in-process
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/plugin.h"

#ifndef FAULTY_FLAVOUR
#define FAULTY_FLAVOUR "a"
#endif
#ifndef FAULTY_VOTE
#define FAULTY_VOTE MCPAUTH_VOTE_ALLOW
#endif

typedef struct faulty {
    char *label;
    char *record;
    char scratch[4096]; /* something worth leaking if create forgot it */
} faulty;

static void faulty_record(const faulty *f, const char *what)
{
    if (!f->record)
        return;
    FILE *out = fopen(f->record, "a");
    if (!out)
        return;
    fprintf(out, "%s %s %s\n", what, f->label, FAULTY_FLAVOUR);
    fclose(out);
}

static void faulty_destroy(void *state)
{
    faulty *f = state;
    if (!f)
        return;
    faulty_record(f, "destroy");
    free(f->label);
    free(f->record);
    free(f);
}

static mcpauth_status faulty_create(void **state, const mcpauth_plugin_env *env,
                                    const mcpauth_config *c)
{
    const mcpauth_services *svc = env->svc;
    const char *rec = NULL, *fail = NULL;
    int abort_now = 0;
    faulty *f = calloc(1, sizeof(*f));
    if (!f)
        return MCPAUTH_ENOMEM;
    f->label = strdup(env->instance_name);
    if (svc->config_string(c, "record", &rec) == MCPAUTH_OK)
        f->record = strdup(rec);
    svc->config_bool(c, "abort_create", &abort_now);
    if (abort_now)
        abort();
    faulty_record(f, "create");
    if (svc->config_string(c, "fail_create", &fail) == MCPAUTH_OK) {
        svc->config_error(c, "fail_create", "%s", fail);
        faulty_destroy(f);
        return MCPAUTH_EPOLICY;
    }
    *state = f;
    return MCPAUTH_OK;
}

static mcpauth_status faulty_vote(void *state, mcpauth_ctx *ctx,
                                  const mcpauth_request *req,
                                  mcpauth_vote_result *out)
{
    (void)state;
    (void)ctx;
    (void)req;
    out->vote = FAULTY_VOTE;
    out->reason = MCPAUTH_REASON_FORBIDDEN;
    out->message = "faulty flavour " FAULTY_FLAVOUR;
    out->detail = "faulty flavour " FAULTY_FLAVOUR;
    return MCPAUTH_OK;
}

static void faulty_observe(void *state, mcpauth_ctx *ctx,
                           const mcpauth_request *req, const mcpauth_outcome *o)
{
    (void)ctx;
    (void)req;
    faulty_record(state, o->allowed ? "observe-allow" : "observe-deny");
}

static const mcpauth_plugin faulty_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "faulty",
    "a test plugin that fails on purpose (fault-injection suite)",
    faulty_create, faulty_vote, faulty_observe, NULL, faulty_destroy,
    0, /* flags: observe is timed, like a plugin that reads latency_ns */
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(faulty_plugin)
