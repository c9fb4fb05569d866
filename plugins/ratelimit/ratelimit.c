/*
 * ratelimit.c: the ratelimit plugin. Limits request rates (GCRA) per
 * principal or client address, and locks an address out after repeated
 * bad_credentials outcomes. It never grants anything: under the limits it
 * abstains, so it cannot turn a deny into an allow whatever its control flag.
 *
 * The decisions about keys and rates live here; the counting lives behind
 * rl_backend (rl_memory.c today).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mcpauth/plugin.h"
#include "rl_backend.h"
#include "rl_config.h"

typedef struct rl_instance {
    rl_config cfg;
    rl_backend be;
    const mcpauth_services *svc;
    int shared_addr; /* the core has svc->client_addr (older cores do not) */
    void *core;
    char *name;
} rl_instance;

static void rl_destroy(void *state)
{
    rl_instance *in = state;
    if (!in)
        return;
    if (in->be.destroy)
        in->be.destroy(in->be.self);
    rl_config_free(&in->cfg);
    free(in->name);
    free(in);
}

static mcpauth_status rl_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    mcpauth_status st = MCPAUTH_ENOMEM;
    rl_instance *in = NULL;
    *state = NULL;
    if (sodium_init() < 0) /* keyed hashing and randombytes need it */
        return MCPAUTH_EPLUGIN;
    if (!(in = calloc(1, sizeof(*in))))
        goto out;
    in->svc = env->svc;
    in->shared_addr = MCPAUTH_SVC_HAS(env->svc, client_addr);
    in->core = env->core;
    if (!(in->name = strdup(env->instance_name ? env->instance_name : "ratelimit")))
        goto out;
    if ((st = rl_config_read(&in->cfg, env->svc, config)) != MCPAUTH_OK)
        goto out;
    if ((st = rl_memory_backend_new(&in->be, in->cfg.max_tracked,
                                    &in->cfg.lockout)) != MCPAUTH_OK)
        goto out;
    *state = in;
    in = NULL;
out:
    rl_destroy(in);
    return st;
}

/* The key a request's rate counts under, or NULL when it is not counted
 * (by: principal and no principal yet). */
static const rl_key *rl_rate_key(const rl_instance *in,
                                 const mcpauth_principal *p,
                                 const rl_key *ip, rl_key *buf)
{
    int has_principal = p && p->key_id && *p->key_id;
    if (in->cfg.by == RL_BY_IP || (in->cfg.by == RL_BY_AUTO && !has_principal))
        return ip;
    if (!has_principal)
        return NULL;
    rl_key_from_principal(buf, p->key_id);
    return buf;
}

static void rl_deny(mcpauth_vote_result *out, mcpauth_reason reason,
                    int64_t wait_ms, const char *message, const char *detail)
{
    out->vote = MCPAUTH_VOTE_DENY;
    out->reason = reason;
    out->retry_after = rl_retry_seconds(wait_ms);
    out->message = message;
    out->detail = detail;
}

static void rl_deny_lockout(mcpauth_vote_result *out, int64_t until,
                            int64_t now_ms)
{
    rl_deny(out, MCPAUTH_REASON_LOCKED_OUT, rl_sat_sub(until, now_ms),
            "too many failed attempts; try again later",
            "client address locked out after repeated bad credentials");
}

static void rl_deny_rate(mcpauth_vote_result *out, int64_t wait_ms, int by_ip)
{
    rl_deny(out, MCPAUTH_REASON_RATE_LIMITED, wait_ms,
            "too many requests; slow down",
            by_ip ? "request rate of the client address exceeded"
                  : "request rate of the principal exceeded");
}

/* Step 1 of vote: a locked-out address is refused before anything else,
 * whatever credential it presents. */
static mcpauth_status rl_vote_lockout(rl_instance *in, const rl_key *ip,
                                      int64_t now_ms, mcpauth_vote_result *out)
{
    int64_t until = 0;
    if (in->cfg.lockout.max_failures == 0)
        return MCPAUTH_OK;
    mcpauth_status st = in->be.locked_until(in->be.self, ip, now_ms, &until);
    if (st == MCPAUTH_OK && until > now_ms)
        rl_deny_lockout(out, until, now_ms);
    return st;
}

/* Performance: with lockouts on and the rate counted by address, both
 * steps look up the same key, so one backend call does both (one hash,
 * one shard lock, one probe instead of two; docs/performance.md). The
 * lockout is still checked first, and a dry run still creates no state. */
static mcpauth_status rl_vote_by_ip(rl_instance *in, mcpauth_ctx *ctx,
                                    const rl_key *ip, const rl_rate *rate,
                                    int64_t now_ms, mcpauth_vote_result *out)
{
    int64_t until = 0;
    rl_take_result r;
    mcpauth_status st = in->be.locked_take(in->be.self, ip, rate, now_ms,
                                           in->svc->dry_run(ctx), &until, &r);
    if (st != MCPAUTH_OK)
        return st;
    if (until > now_ms)
        rl_deny_lockout(out, until, now_ms);
    else if (rate && !r.allowed)
        rl_deny_rate(out, r.wait_ms, 1);
    return MCPAUTH_OK;
}

/* The client's key, from the address the core parsed once per check. */
static void rl_key_client(const rl_instance *in, mcpauth_ctx *ctx,
                          const mcpauth_request *req, rl_key *out)
{
    mcpauth_addr a;
    if (!in->shared_addr) {
        rl_key_from_ip(out, req->client_ip);
        return;
    }
    mcpauth_status st = in->svc->client_addr(ctx, &a);
    rl_key_from_addr(out, st, &a, req->client_ip);
}

static mcpauth_status rl_vote(void *state, mcpauth_ctx *ctx,
                              const mcpauth_request *req,
                              mcpauth_vote_result *out)
{
    rl_instance *in = state;
    rl_key ip, pkey;
    rl_take_result r;
    rl_key_client(in, ctx, req, &ip);
    /* Reading the principal and the rate changes nothing, so they may be
     * looked up before the lockout check. */
    const mcpauth_principal *p = in->svc->principal(ctx);
    const rl_rate *rate = rl_config_rate_for(&in->cfg, p ? p->role : NULL);
    const rl_key *key = rl_rate_key(in, p, &ip, &pkey);
    if (in->cfg.lockout.max_failures != 0 && (key == &ip || !rate))
        return rl_vote_by_ip(in, ctx, &ip, key == &ip ? rate : NULL,
                             req->now_ms, out);
    mcpauth_status st = rl_vote_lockout(in, &ip, req->now_ms, out);
    if (st != MCPAUTH_OK || out->vote == MCPAUTH_VOTE_DENY)
        return st;
    if (!rate || !key)
        return MCPAUTH_OK; /* abstain: nothing of ours to count */
    st = in->be.take(in->be.self, key, rate, req->now_ms,
                     in->svc->dry_run(ctx), &r);
    if (st == MCPAUTH_OK && !r.allowed)
        rl_deny_rate(out, r.wait_ms, key == &ip);
    return st;
}

static void rl_observe(void *state, mcpauth_ctx *ctx,
                       const mcpauth_request *req,
                       const mcpauth_outcome *outcome)
{
    rl_instance *in = state;
    rl_key ip;
    int locked = 0;
    /* Only a wrong key counts: an unknown tool or an expired key is not
     * someone guessing. */
    if (in->cfg.lockout.max_failures == 0 || outcome->allowed ||
        outcome->reason != MCPAUTH_REASON_BAD_CREDENTIALS ||
        in->svc->dry_run(ctx))
        return;
    rl_key_client(in, ctx, req, &ip);
    mcpauth_status st = in->be.record_failure(in->be.self, &ip,
                                              outcome->now_ms, &locked);
    if (st != MCPAUTH_OK) {
        in->svc->log(in->core, MCPAUTH_LOG_ERROR,
                     "%s: could not count a failed attempt: %s", in->name,
                     mcpauth_status_str(st));
    } else if (locked) {
        char who[64];
        rl_key_format(&ip, who, sizeof(who));
        in->svc->log(in->core, MCPAUTH_LOG_WARNING,
                     "%s: %s locked out for %lld s after %u failed attempts",
                     in->name, who,
                     (long long)(in->cfg.lockout.lockout_ms / 1000),
                     in->cfg.lockout.max_failures);
    }
}

static const mcpauth_plugin rl_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION,
    sizeof(mcpauth_plugin),
    "ratelimit",
    "request rate limits (GCRA) and lockout after repeated bad credentials",
    rl_create,
    rl_vote,
    rl_observe,
    NULL,
    rl_destroy,
    /* rl_observe counts failures; it never reads latency_ns, so a stack
     * whose only observer is ratelimit skips the latency clock reads. */
    MCPAUTH_PLUGIN_UNTIMED_OBSERVE,
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(rl_plugin)
