/* script.c: a test plugin whose vote is written in its config.
 *
 *   config: { vote: allow|deny|abstain|error, reason: forbidden,
 *             retry_after: 3, message: "...", detail: "...",
 *             fail_create: "message",
 *             principal: { key_id, key_name, role, key_type,
 *                          allowed_ips: [..], allowed_tools: [..] },
 *             record: /path/file,    # appends "observe <label> <reason>" lines
 *             record_calls: true,    # ...and "prepare <label>", "vote <label>"
 *             record_time: true,     # "time <label> <now_ms>" from vote
 *             shared_buffer: true }  # message in one per-thread buffer that
 *                                    # every instance reuses, as real plugins
 *                                    # that format their texts do
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/plugin.h"

typedef struct script {
    const mcpauth_services *svc;
    char *label;
    mcpauth_vote vote;
    int error;
    mcpauth_reason reason;
    uint32_t retry_after;
    char *message, *detail, *record;
    int has_principal;
    char *pid, *pname, *prole, *ptype;
    char **ips, **tools;
    mcpauth_principal p;
    int shared;
    int calls; /* record_calls */
    int time;  /* record_time */
} script;

static _Thread_local char script_shared_buf[128];

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

static void free_list(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}

static void script_destroy(void *state)
{
    script *s = state;
    if (!s)
        return;
    free(s->label); free(s->message); free(s->detail); free(s->record);
    free(s->pid); free(s->pname); free(s->prole); free(s->ptype);
    free_list(s->ips);
    free_list(s->tools);
    free(s);
}

static char **copy_list(const mcpauth_services *svc, const mcpauth_config *c, const char *key)
{
    const char *const *l;
    size_t n;
    if (svc->config_strings(c, key, &l, &n) != MCPAUTH_OK)
        return NULL;
    char **out = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; out && i < n; i++)
        out[i] = strdup(l[i]);
    return out;
}

static mcpauth_status read_principal(script *s, const mcpauth_config *c)
{
    const mcpauth_services *svc = s->svc;
    const mcpauth_config *p;
    if (svc->config_node(c, "principal", &p) != MCPAUTH_OK)
        return MCPAUTH_OK;
    const char *v = NULL;
    s->has_principal = 1;
    if (svc->config_string(p, "key_id", &v) == MCPAUTH_OK) s->pid = dup(v);
    v = NULL;
    if (svc->config_string(p, "key_name", &v) == MCPAUTH_OK) s->pname = dup(v);
    v = NULL;
    if (svc->config_string(p, "role", &v) == MCPAUTH_OK) s->prole = dup(v);
    v = NULL;
    if (svc->config_string(p, "key_type", &v) == MCPAUTH_OK) s->ptype = dup(v);
    s->ips = copy_list(svc, p, "allowed_ips");
    s->tools = copy_list(svc, p, "allowed_tools");
    s->p = (mcpauth_principal){ s->pid ? s->pid : "k1", s->pname ? s->pname : "test",
                                s->prole, s->ptype ? s->ptype : "live",
                                (const char *const *)s->ips, (const char *const *)s->tools };
    return MCPAUTH_OK;
}

static mcpauth_status read_vote(script *s, const mcpauth_config *c)
{
    const char *v = "abstain";
    s->svc->config_string(c, "vote", &v);
    if (!strcmp(v, "allow")) s->vote = MCPAUTH_VOTE_ALLOW;
    else if (!strcmp(v, "deny")) s->vote = MCPAUTH_VOTE_DENY;
    else if (!strcmp(v, "abstain")) s->vote = MCPAUTH_VOTE_ABSTAIN;
    else if (!strcmp(v, "error")) s->error = 1;
    else {
        s->svc->config_error(c, "vote", "must be allow, deny, abstain or error");
        return MCPAUTH_EPOLICY;
    }
    const char *r = "forbidden";
    s->svc->config_string(c, "reason", &r);
    if (mcpauth_reason_from_name(r, &s->reason) != 0) {
        s->svc->config_error(c, "reason", "unknown reason '%s'", r);
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

static mcpauth_status script_create(void **state, const mcpauth_plugin_env *env,
                                    const mcpauth_config *c)
{
    const mcpauth_services *svc = env->svc;
    const char *fail = NULL, *m = NULL, *d = NULL, *rec = NULL;
    int64_t ra = 0;
    if (svc->config_string(c, "fail_create", &fail) == MCPAUTH_OK) {
        svc->config_error(c, "fail_create", "%s", fail);
        return MCPAUTH_EPOLICY;
    }
    script *s = calloc(1, sizeof(*s));
    if (!s)
        return MCPAUTH_ENOMEM;
    s->svc = svc;
    s->label = strdup(env->instance_name);
    svc->config_string(c, "message", &m);
    svc->config_string(c, "detail", &d);
    svc->config_string(c, "record", &rec);
    svc->config_int(c, "retry_after", &ra);
    svc->config_bool(c, "shared_buffer", &s->shared);
    svc->config_bool(c, "record_calls", &s->calls);
    svc->config_bool(c, "record_time", &s->time);
    s->message = dup(m);
    s->detail = dup(d);
    s->record = dup(rec);
    s->retry_after = (uint32_t)ra;
    if (read_vote(s, c) != MCPAUTH_OK || read_principal(s, c) != MCPAUTH_OK) {
        script_destroy(s);
        return MCPAUTH_EPOLICY;
    }
    *state = s;
    return MCPAUTH_OK;
}

static void script_release(void *arg)
{
    script *s = arg;
    if (!s->record)
        return;
    FILE *f = fopen(s->record, "a");
    if (f) {
        fprintf(f, "release %s\n", s->label);
        fclose(f);
    }
}

static void script_record_call(const script *s, const char *what)
{
    FILE *f = s->calls && s->record ? fopen(s->record, "a") : NULL;
    if (f) {
        fprintf(f, "%s %s\n", what, s->label);
        fclose(f);
    }
}

static void script_prepare(void *state, const mcpauth_request *req)
{
    (void)req;
    script_record_call(state, "prepare");
}

static mcpauth_status script_vote(void *state, mcpauth_ctx *ctx, const mcpauth_request *req,
                                  mcpauth_vote_result *out)
{
    script *s = state;
    script_record_call(s, "vote");
    FILE *f = s->time && s->record ? fopen(s->record, "a") : NULL;
    if (f) {
        fprintf(f, "time %s %lld\n", s->label, (long long)req->now_ms);
        fclose(f);
    }
    if (s->error)
        return MCPAUTH_EPLUGIN;
    if (s->has_principal)
        s->svc->set_principal(ctx, &s->p, script_release, s);
    out->vote = s->vote;
    out->reason = s->reason;
    out->retry_after = s->retry_after;
    out->message = s->message;
    if (s->shared && s->message) {
        snprintf(script_shared_buf, sizeof(script_shared_buf), "%s", s->message);
        out->message = script_shared_buf;
    }
    out->detail = s->detail;
    return MCPAUTH_OK;
}

static void script_observe(void *state, mcpauth_ctx *ctx, const mcpauth_request *req,
                           const mcpauth_outcome *o)
{
    script *s = state;
    (void)req;
    if (!s->record)
        return;
    FILE *f = fopen(s->record, "a");
    if (!f)
        return;
    const mcpauth_principal *p = s->svc->principal(ctx);
    fprintf(f, "observe %s %s %s %s\n", s->label, o->allowed ? "allow" : "deny",
            mcpauth_reason_name(o->reason), p && p->key_id ? p->key_id : "-");
    fclose(f);
}

static void script_event(void *state, const mcpauth_event *ev)
{
    script *s = state;
    if (!s->record)
        return;
    FILE *f = fopen(s->record, "a");
    if (!f)
        return;
    fprintf(f, "event %s %s\n", s->label, ev->type);
    fclose(f);
}

static const mcpauth_plugin script_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "script",
    "a test plugin whose votes are scripted in its config",
    script_create, script_vote, script_observe, script_event, script_destroy,
    0, /* flags: observe is timed (test_api checks latency_ns) */
    script_prepare,
};

MCPAUTH_PLUGIN_DEFINE(script_plugin)
