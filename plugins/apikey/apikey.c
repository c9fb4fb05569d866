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
 * Every instance that names the same store file shares one store handle
 * (see ak_shared below), so that a reload can never serve an older snapshot
 * than the stack it replaces: a revoked key stays revoked across reloads.
 *
 * config:
 *   store: keys.yaml            # relative to the policy file; default
 *                               # $MCPAUTH_STORE or the built-in path
 *   accept_types: [live, test]  # default both
 *   reload_interval: 1s         # how often the file's identity is checked
 *                               # (instances sharing a store file share
 *                               # one handle: the first one's interval)
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"
#include "mcpauth/plugin.h"

#define AK_MIN_INTERVAL_MS 10
#define AK_MAX_INTERVAL_MS (3600 * 1000)

typedef struct ak_shared ak_shared;

typedef struct apikey {
    mcpauth_store *store;     /* borrowed from shared */
    ak_shared *shared;
    const mcpauth_services *svc;
    void *core;
    unsigned types;
    atomic_int ready; /* events flow only once create has finished */
} apikey;

/*
 * One store handle per store file, shared by every instance in the process.
 * This is the plugin's one piece of global state, and it is deliberate:
 * during a reload the new stack's instance is created while the old one
 * still serves. With a handle each, the new one could load the file just
 * before a revoke lands and be swapped in after the old handle had already
 * shown the revoke, allowing the revoked key again until its own watcher
 * caught up. A shared handle's snapshots only ever move forward.
 */
struct ak_shared {
    ak_shared *next;
    char *path;               /* canonical path: the registry key */
    mcpauth_store *store;
    size_t refs;              /* instances using it; under ak_registry_lock */
    pthread_mutex_t subs_lock;/* guards subs: the watcher thread reads it */
    apikey **subs;
    size_t nsubs;
};

static pthread_mutex_t ak_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ak_shared *ak_registry;

/* A deny's detail must outlive vote; it is read by observe on this thread
 * within the same check. Never holds a secret: only the public id. */
static _Thread_local char ak_detail[96];

/* Store callbacks run on the store's watcher thread; they go to whichever
 * instances are alive, under the subscriber lock (never the registry lock,
 * which is held while a store is opened). */
static void ak_log(void *arg, int level, const char *message)
{
    ak_shared *sh = arg;
    pthread_mutex_lock(&sh->subs_lock);
    if (sh->nsubs)
        sh->subs[0]->svc->log(sh->subs[0]->core, (mcpauth_log_level)level,
                              "apikey: %s", message);
    pthread_mutex_unlock(&sh->subs_lock);
}

static void ak_change(void *arg, const char *type, const mcpauth_key_info *k,
                      const char *detail)
{
    ak_shared *sh = arg;
    mcpauth_event ev = { type, mcpauth_now_ms(), k->id, k->name, k->role, detail };
    pthread_mutex_lock(&sh->subs_lock);
    for (size_t i = 0; i < sh->nsubs; i++)
        if (atomic_load(&sh->subs[i]->ready))
            sh->subs[i]->svc->emit(sh->subs[i]->core, &ev);
    pthread_mutex_unlock(&sh->subs_lock);
}

static int ak_subscribe(ak_shared *sh, apikey *a)
{
    pthread_mutex_lock(&sh->subs_lock);
    apikey **n = realloc(sh->subs, (sh->nsubs + 1) * sizeof(*n));
    if (n) {
        sh->subs = n;
        sh->subs[sh->nsubs++] = a;
    }
    pthread_mutex_unlock(&sh->subs_lock);
    return n ? 0 : -1;
}

static void ak_unsubscribe(ak_shared *sh, apikey *a)
{
    pthread_mutex_lock(&sh->subs_lock);
    for (size_t i = 0; i < sh->nsubs; i++)
        if (sh->subs[i] == a) {
            sh->subs[i] = sh->subs[--sh->nsubs];
            break;
        }
    pthread_mutex_unlock(&sh->subs_lock);
}

static void ak_shared_free(ak_shared *sh)
{
    mcpauth_store_close(sh->store);
    pthread_mutex_destroy(&sh->subs_lock);
    free(sh->subs);
    free(sh->path);
    free(sh);
}

/* Find or open the shared handle for `path`; called with the registry
 * lock held. */
static mcpauth_status ak_shared_get(const char *path, int64_t interval_ms,
                                    ak_shared **out, mcpauth_error *err)
{
    char canon[PATH_MAX];
    const char *key = realpath(path, canon) ? canon : path;
    for (ak_shared *sh = ak_registry; sh; sh = sh->next)
        if (!strcmp(sh->path, key)) {
            *out = sh;
            return MCPAUTH_OK;
        }
    ak_shared *sh = calloc(1, sizeof(*sh));
    if (!sh || !(sh->path = strdup(key))) {
        free(sh);
        snprintf(err->message, sizeof(err->message), "out of memory");
        return MCPAUTH_ENOMEM;
    }
    pthread_mutex_init(&sh->subs_lock, NULL);
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    o.flags = MCPAUTH_STORE_WATCH;
    o.reload_interval_ms = interval_ms;
    o.log = ak_log;
    o.on_change = ak_change;
    o.arg = sh;
    mcpauth_status st = mcpauth_store_open(&sh->store, path, &o, err);
    if (st != MCPAUTH_OK) {
        sh->store = NULL;
        ak_shared_free(sh);
        return st;
    }
    sh->next = ak_registry;
    ak_registry = sh;
    *out = sh;
    return MCPAUTH_OK;
}

static void ak_shared_put(ak_shared *sh, apikey *a)
{
    int last = 0;
    ak_unsubscribe(sh, a);
    pthread_mutex_lock(&ak_registry_lock);
    if (--sh->refs == 0) {
        for (ak_shared **pp = &ak_registry; *pp; pp = &(*pp)->next)
            if (*pp == sh) {
                *pp = sh->next;
                break;
            }
        last = 1;
    }
    pthread_mutex_unlock(&ak_registry_lock);
    /* Closing joins the watcher thread: outside every lock it might need. */
    if (last)
        ak_shared_free(sh);
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
    mcpauth_error err = { MCPAUTH_OK, "" };
    ak_shared *sh = NULL;
    pthread_mutex_lock(&ak_registry_lock);
    st = ak_shared_get(path, interval_ms, &sh, &err);
    if (st == MCPAUTH_OK)
        sh->refs++;
    pthread_mutex_unlock(&ak_registry_lock);
    if (st != MCPAUTH_OK) {
        a->svc->config_error(config, rel ? "store" : NULL, "%s", err.message);
        return MCPAUTH_EPOLICY;
    }
    a->shared = sh;
    a->store = sh->store;
    if (ak_subscribe(sh, a) != 0)
        return MCPAUTH_ENOMEM;
    return MCPAUTH_OK;
}

static void ak_destroy(void *state)
{
    apikey *a = state;
    if (!a)
        return;
    if (a->shared)
        ak_shared_put(a->shared, a);
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

/* The key store's table slot for the presented key is a cache miss on
 * nearly every check of a large store (docs/performance.md); fetching it
 * now overlaps it with the votes of the entries before this one. */
static void ak_prepare(void *state, const mcpauth_request *req)
{
    apikey *a = state;
    if (req->credential)
        mcpauth_store_prefetch(a->store, req->credential);
}

/* "key ID: WHAT" in ak_detail, cut to fit. Performance: snprintf took
 * ~1,000 instructions, about a quarter of a denial, and in a flood of bad keys
 * every request is one. */
static const char *ak_key_detail(const char *id, const char *what)
{
    size_t n = strlen(id), w = strlen(what);
    if (n > MCPAUTH_KEY_ID_LEN)
        n = MCPAUTH_KEY_ID_LEN;
    if (w > sizeof(ak_detail) - 7 - n)
        w = sizeof(ak_detail) - 7 - n;
    char *d = ak_detail;
    memcpy(d, "key ", 4), d += 4;
    memcpy(d, id, n), d += n;
    memcpy(d, ": ", 2), d += 2;
    memcpy(d, what, w), d += w;
    *d = '\0';
    return ak_detail;
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
        out->detail = *v.key_id ? ak_key_detail(v.key_id, mcpauth_reason_name(v.reason))
                                : "malformed key";
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
    0, /* flags */
    ak_prepare,
};

MCPAUTH_PLUGIN_DEFINE(apikey_plugin)
