/*
 * apikey: authenticate a request by its API key.
 *
 * Votes: no credential -> deny no_credentials; malformed, unknown, wrong
 * secret or a type this entry does not accept -> bad_credentials; revoked
 * -> revoked; expired -> expired; otherwise allow and set the principal.
 * The principal's strings live in the store's snapshot, which stays pinned
 * (an rcu read section) until the core calls the release callback after the
 * last observe hook. Key changes the store notices are emitted as events.
 *
 * config:
 *   store: keys.yaml            # relative to the policy file; default
 *                               # $MCPAUTH_STORE or the built-in path
 *   accept_types: [live, test]  # default both
 *   reload_interval: 1s         # how often the file's identity is checked
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"
#include "mcpauth/plugin.h"

#define AK_MIN_INTERVAL_MS 10
#define AK_MAX_INTERVAL_MS (3600 * 1000)

typedef struct apikey {
    mcpauth_store *store;
    const mcpauth_services *svc;
    void *core;
    unsigned types;
    atomic_int ready; /* events flow only once create has finished */
} apikey;

/* A deny's detail must outlive vote; it is read by observe on this thread
 * within the same check. Never holds a secret: only the public id. */
static _Thread_local char ak_detail[96];

static void ak_log(void *arg, int level, const char *message)
{
    apikey *a = arg;
    a->svc->log(a->core, (mcpauth_log_level)level, "apikey: %s", message);
}

static void ak_change(void *arg, const char *type, const mcpauth_key_info *k,
                      const char *detail)
{
    apikey *a = arg;
    if (!atomic_load(&a->ready))
        return;
    mcpauth_event ev = { type, mcpauth_now_ms(), k->id, k->name, k->role, detail };
    a->svc->emit(a->core, &ev);
}

static mcpauth_status read_types(apikey *a, const mcpauth_config *config)
{
    const char *const *list = NULL;
    size_t n = 0;
    mcpauth_status st = a->svc->config_strings(config, "accept_types", &list, &n);
    a->types = MCPAUTH_KEY_TYPE_LIVE | MCPAUTH_KEY_TYPE_TEST;
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    a->types = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(list[i], "live"))
            a->types |= MCPAUTH_KEY_TYPE_LIVE;
        else if (!strcmp(list[i], "test"))
            a->types |= MCPAUTH_KEY_TYPE_TEST;
        else {
            a->svc->config_error(config, "accept_types",
                                 "unknown key type '%s' (live or test)", list[i]);
            return MCPAUTH_EPOLICY;
        }
    }
    if (!a->types) {
        a->svc->config_error(config, "accept_types", "lists no key type");
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

static mcpauth_status read_interval(apikey *a, const mcpauth_config *config,
                                    int64_t *ms)
{
    mcpauth_status st = a->svc->config_duration_ms(config, "reload_interval", ms);
    if (st == MCPAUTH_ENOTFOUND) {
        *ms = 1000;
        return MCPAUTH_OK;
    }
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (*ms < AK_MIN_INTERVAL_MS || *ms > AK_MAX_INTERVAL_MS) {
        a->svc->config_error(config, "reload_interval",
                             "must be between 10ms and 1h");
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

static mcpauth_status open_store(apikey *a, const mcpauth_config *config,
                                 int64_t interval_ms)
{
    char path[4096];
    const char *rel = NULL;
    mcpauth_status st = a->svc->config_string(config, "store", &rel);
    if (st == MCPAUTH_ENOTFOUND)
        snprintf(path, sizeof(path), "%s", mcpauth_store_default_path());
    else if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    else if (a->svc->config_path(config, rel, path, sizeof(path)) != MCPAUTH_OK) {
        a->svc->config_error(config, "store", "path too long");
        return MCPAUTH_EPOLICY;
    }
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.flags = MCPAUTH_STORE_WATCH;
    o.reload_interval_ms = interval_ms;
    o.log = ak_log;
    o.on_change = ak_change;
    o.arg = a;
    mcpauth_error err;
    if (mcpauth_store_open(&a->store, path, &o, &err) != MCPAUTH_OK) {
        a->svc->config_error(config, rel ? "store" : NULL, "%s", err.message);
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

static void ak_destroy(void *state)
{
    apikey *a = state;
    if (!a)
        return;
    mcpauth_store_close(a->store);
    free(a);
}

static mcpauth_status ak_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    apikey *a = calloc(1, sizeof(*a));
    int64_t interval = 0;
    *state = NULL;
    if (!a)
        return MCPAUTH_ENOMEM;
    a->svc = env->svc;
    a->core = env->core;
    atomic_init(&a->ready, 0);
    mcpauth_status st = read_types(a, config);
    if (st == MCPAUTH_OK)
        st = read_interval(a, config, &interval);
    if (st == MCPAUTH_OK)
        st = open_store(a, config, interval);
    if (st != MCPAUTH_OK) {
        ak_destroy(a);
        return st;
    }
    atomic_store(&a->ready, 1);
    *state = a;
    return MCPAUTH_OK;
}

static const char *deny_message(mcpauth_reason r)
{
    switch (r) {
    case MCPAUTH_REASON_EXPIRED: return "the API key has expired";
    case MCPAUTH_REASON_REVOKED: return "the API key has been revoked";
    default: return "invalid API key";
    }
}

static mcpauth_status ak_vote(void *state, mcpauth_ctx *ctx,
                              const mcpauth_request *req, mcpauth_vote_result *out)
{
    apikey *a = state;
    if (!req->credential || !*req->credential) {
        out->vote = MCPAUTH_VOTE_DENY;
        out->reason = MCPAUTH_REASON_NO_CREDENTIALS;
        out->message = "an API key is required";
        return MCPAUTH_OK;
    }
    mcpauth_key_verdict v;
    mcpauth_store_verify(a->store, req->credential, req->now_ms, a->types, &v);
    if (v.reason != MCPAUTH_REASON_OK) {
        out->vote = MCPAUTH_VOTE_DENY;
        out->reason = v.reason;
        out->message = deny_message(v.reason);
        if (*v.key_id)
            snprintf(ak_detail, sizeof(ak_detail), "key %s: %s", v.key_id,
                     mcpauth_reason_name(v.reason));
        else
            snprintf(ak_detail, sizeof(ak_detail), "malformed key");
        out->detail = ak_detail;
        return MCPAUTH_OK;
    }
    mcpauth_status st = a->svc->set_principal(ctx, v.principal, v.release,
                                              v.release_arg);
    if (st != MCPAUTH_OK) {
        v.release(v.release_arg);
        return st;
    }
    out->vote = MCPAUTH_VOTE_ALLOW;
    out->reason = MCPAUTH_REASON_OK;
    if (v.grace) {
        snprintf(ak_detail, sizeof(ak_detail),
                 "key %s: previous secret, in its rotation grace period", v.key_id);
        out->detail = ak_detail;
    }
    return MCPAUTH_OK;
}

static const mcpauth_plugin apikey_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION,
    sizeof(mcpauth_plugin),
    "apikey",
    "authenticates requests by API key against a key store",
    ak_create,
    ak_vote,
    NULL,
    NULL,
    ak_destroy,
};

MCPAUTH_PLUGIN_DEFINE(apikey_plugin)
