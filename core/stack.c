/* stack.c: building a stack of plugin instances and running a request
 * through it with Linux-PAM's control-flag semantics (docs/policy.md). */
#include "stack.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h" /* the client address is parsed as ipwhitelist does */

const char *mcpauth__reason_message(mcpauth_reason r);
const char *mcpauth__reason_message_len(mcpauth_reason r, size_t *len);

/* strlcpy for a source whose length is known: the decision path copies
 * labels and default messages whose lengths were counted once, at load. */
static void copy_known(char *dst, size_t cap, const char *src, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

struct mcpauth_ctx {
    mcpauth_stack *stack;
    const mcpauth_request *req;
    int addr_parsed;            /* addr_status and addr are set */
    mcpauth_status addr_status;
    mcpauth_addr addr;
    mcpauth_principal principal;
    int has_principal;
    void (*release)(void *);
    void *release_arg;
    int dry;
};

/* ---- services that act on the request context ---- */

const mcpauth_principal *mcpauth__ctx_principal(mcpauth_ctx *ctx)
{
    return ctx && ctx->has_principal ? &ctx->principal : NULL;
}

static void ctx_release(mcpauth_ctx *ctx)
{
    if (ctx->release)
        ctx->release(ctx->release_arg);
    ctx->release = NULL;
    ctx->release_arg = NULL;
}

mcpauth_status mcpauth__ctx_set_principal(mcpauth_ctx *ctx, const mcpauth_principal *p,
                                          void (*release)(void *), void *arg)
{
    if (!ctx || !p)
        return MCPAUTH_EINVAL;
    /* A later authenticating plugin replaces an earlier one's principal. */
    ctx_release(ctx);
    ctx->principal = *p;
    ctx->has_principal = 1;
    ctx->release = release;
    ctx->release_arg = arg;
    return MCPAUTH_OK;
}

int mcpauth__ctx_dry_run(mcpauth_ctx *ctx) { return ctx ? ctx->dry : 0; }

mcpauth_status mcpauth__ctx_client_addr(mcpauth_ctx *ctx, mcpauth_addr *out)
{
    if (!ctx || !out)
        return MCPAUTH_EINVAL;
    if (!ctx->addr_parsed) {
        const char *ip = ctx->req->client_ip;
        ipw_addr a;
        ctx->addr_parsed = 1;
        if (!ip || !*ip) {
            ctx->addr_status = MCPAUTH_ENOTFOUND;
        } else if (ipw_addr_parse_str(ip, &a) != 0) {
            ctx->addr_status = MCPAUTH_EINVAL;
        } else {
            ctx->addr_status = MCPAUTH_OK;
            ctx->addr.family = a.family;
            memcpy(ctx->addr.bytes, a.b, sizeof(ctx->addr.bytes));
        }
    }
    if (ctx->addr_status == MCPAUTH_OK)
        *out = ctx->addr;
    return ctx->addr_status;
}

void mcpauth__svc_log(void *core, mcpauth_log_level level, const char *fmt, ...)
{
    mcpauth_stack *s = core;
    if (!s || !s->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->log(s->log_arg, (int)level, msg);
}

void mcpauth__stack_emit(mcpauth_stack *s, const mcpauth_event *ev)
{
    pthread_rwlock_rdlock(&s->emit_lock);
    for (size_t i = 0; s->ready && !s->closing && i < s->n; i++) {
        mcpauth_instance *in = &s->e[i];
        if (in->created && in->lib.desc->event)
            in->lib.desc->event(in->state, ev);
    }
    pthread_rwlock_unlock(&s->emit_lock);
}

void mcpauth__svc_emit(void *core, const mcpauth_event *ev)
{
    if (core && ev)
        mcpauth__stack_emit(core, ev);
}

/* ---- building and freeing ---- */

void mcpauth__stack_free(mcpauth_stack *s)
{
    if (!s)
        return;
    pthread_rwlock_wrlock(&s->emit_lock);
    s->closing = 1;
    pthread_rwlock_unlock(&s->emit_lock);
    for (size_t i = 0; i < s->n; i++) {
        mcpauth_instance *in = &s->e[i];
        if (in->created)
            in->lib.desc->destroy(in->state);
        mcpauth__plugin_unload(&in->lib);
        free(in->label);
    }
    pthread_rwlock_destroy(&s->emit_lock);
    free(s->observers);
    free(s->preparers);
    free(s->e);
    free(s);
}

static mcpauth_status instance_create(mcpauth_stack *s, const mcpauth_policy_spec *spec,
                                      size_t i, mcpauth_error *err)
{
    const mcpauth_entry_spec *es = &spec->entries[i];
    mcpauth_instance *in = &s->e[i];
    in->control = es->control;
    if (!(in->label = mcpauth__strdup(es->label)))
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    in->label_len = strlen(in->label);
    mcpauth_status st = mcpauth__plugin_load(spec, es, &in->lib, err);
    if (st)
        return st;
    mcpauth_plugin_env env = { &mcpauth__services, in->label,
                               mcpauth__cfg_file(es->doc), s };
    mcpauth_error perr = { MCPAUTH_OK, "" };
    mcpauth__cfg_set_error(es->config->doc, in->label, &perr);
    st = in->lib.desc->create(&in->state, &env, es->config);
    mcpauth__cfg_set_error(es->config->doc, NULL, NULL);
    mcpauth__cfg_scratch_free(es->config->doc);
    if (st == MCPAUTH_OK)
        in->created = 1;
    /* A config error the plugin reported but then ignored still fails the
     * load: the entry would not run as written. */
    if (st == MCPAUTH_OK && perr.message[0])
        st = MCPAUTH_EPOLICY;
    if (st == MCPAUTH_OK) {
        char what[MCPAUTH_LABEL_MAX + 16];
        snprintf(what, sizeof(what), "%s config", in->label);
        if (mcpauth__cfg_unread(es->config, what, err))
            return MCPAUTH_EPOLICY;
        return MCPAUTH_OK;
    }
    /* The plugin refused its config: pass its message through, with the
     * entry's position when it did not give one. */
    if (perr.message[0])
        return mcpauth__err(err, MCPAUTH_EPOLICY, "%s", perr.message);
    return mcpauth__err(err, MCPAUTH_EPOLICY, "%s:%zu:%zu: plugin '%s' (%s) failed to start: %s",
                        mcpauth__cfg_file(es->doc), es->at->line, es->at->col, in->label,
                        in->lib.path, mcpauth_status_str(st));
}

/* Note entry i's per-check hooks. Fields past the first ABI are read only
 * when the descriptor's size covers them (MCPAUTH_PLUGIN_HAS). */
static void hooks_register(mcpauth_stack *s, size_t i)
{
    const mcpauth_plugin *d = s->e[i].lib.desc;
    uint32_t flags = MCPAUTH_PLUGIN_HAS(d, flags) ? d->flags : 0;
    if (d->observe) {
        s->observers[s->nobservers++] = i;
        if (!(flags & MCPAUTH_PLUGIN_UNTIMED_OBSERVE))
            s->ntimed++;
    }
    if (!(flags & MCPAUTH_PLUGIN_NO_CLOCK))
        s->nclocked++;
    if (MCPAUTH_PLUGIN_HAS(d, prepare) && d->prepare)
        s->preparers[s->npreparers++] = i;
}

mcpauth_status mcpauth__stack_build(const mcpauth_policy_spec *spec,
                                    mcpauth_log_fn log, void *log_arg,
                                    mcpauth_stack **out, mcpauth_error *err)
{
    *out = NULL;
    mcpauth_stack *s = calloc(1, sizeof(*s));
    size_t n = spec->n ? spec->n : 1;
    if (!s || !(s->e = calloc(n, sizeof(*s->e))) ||
        !(s->observers = calloc(n, sizeof(*s->observers))) ||
        !(s->preparers = calloc(n, sizeof(*s->preparers)))) {
        if (s)
            free(s->e), free(s->observers);
        free(s);
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    }
    pthread_rwlock_init(&s->emit_lock, NULL);
    s->max_request_bytes = spec->max_request_bytes;
    s->log = log;
    s->log_arg = log_arg;
    mcpauth_status st = MCPAUTH_OK;
    for (size_t i = 0; i < spec->n && st == MCPAUTH_OK; i++) {
        s->n = i + 1;
        st = instance_create(s, spec, i, err);
        if (st == MCPAUTH_OK)
            hooks_register(s, i);
    }
    if (st) {
        mcpauth__stack_free(s);
        return st;
    }
    /* A plugin thread started by create (the key store watcher) may emit
     * as soon as the whole stack exists, not before. */
    pthread_rwlock_wrlock(&s->emit_lock);
    s->ready = 1;
    pthread_rwlock_unlock(&s->emit_lock);
    *out = s;
    return MCPAUTH_OK;
}

/* ---- evaluation ---- */

/* PAM's running impression of the stack so far. */
typedef enum { IMP_UNDEF, IMP_GOOD, IMP_BAD } impression;

typedef struct eval_state {
    impression imp;
    long deny_at, allow_at;          /* entries whose vote counts */
    long opt_deny_at, opt_allow_at;  /* optional entries' first votes */
    long error_at;
    mcpauth_vote_result first_deny, opt_deny;
    /* Copies of the kept denies' details: a plugin may format them into a
     * per-thread buffer that a later instance of the same plugin reuses. */
    char first_text[2][MCPAUTH_MESSAGE_MAX], opt_text[2][MCPAUTH_MESSAGE_MAX];
} eval_state;

static void keep_deny(mcpauth_vote_result *dst, char buf[2][MCPAUTH_MESSAGE_MAX],
                      const mcpauth_vote_result *r)
{
    *dst = *r;
    if (r->message) {
        mcpauth__strlcpy(buf[0], r->message, MCPAUTH_MESSAGE_MAX);
        dst->message = buf[0];
    }
    if (r->detail) {
        mcpauth__strlcpy(buf[1], r->detail, MCPAUTH_MESSAGE_MAX);
        dst->detail = buf[1];
    }
}

/* Apply one vote; returns 1 when the stack must stop here. Inlined into
 * the vote loop: as a call it was a third of the loop's instructions. */
static inline __attribute__((always_inline)) int eval_apply(eval_state *e, long i, mcpauth_control c,
                      const mcpauth_vote_result *r)
{
    if (r->vote == MCPAUTH_VOTE_ABSTAIN)
        return 0;
    int deny = r->vote != MCPAUTH_VOTE_ALLOW;
    switch (c) {
    case MCPAUTH_CONTROL_REQUIRED:
    case MCPAUTH_CONTROL_REQUISITE:
        if (deny && e->imp != IMP_BAD) {
            e->imp = IMP_BAD;
            e->deny_at = i;
            keep_deny(&e->first_deny, e->first_text, r);
        } else if (!deny && e->imp != IMP_BAD) {
            e->imp = IMP_GOOD;
            e->allow_at = i;
        }
        return deny && c == MCPAUTH_CONTROL_REQUISITE;
    case MCPAUTH_CONTROL_SUFFICIENT:
        /* An allow ends the stack unless a required entry already failed;
         * a deny is ignored. */
        if (!deny && e->imp != IMP_BAD) {
            e->imp = IMP_GOOD;
            e->allow_at = i;
            return 1;
        }
        return 0;
    case MCPAUTH_CONTROL_OPTIONAL:
        if (deny && e->opt_deny_at < 0) {
            e->opt_deny_at = i;
            keep_deny(&e->opt_deny, e->opt_text, r);
        } else if (!deny && e->opt_allow_at < 0) {
            e->opt_allow_at = i;
        }
        return 0;
    }
    return 0;
}

static mcpauth_reason sane_reason(mcpauth_reason r)
{
    if ((unsigned)r >= MCPAUTH_REASON_COUNT)
        return MCPAUTH_REASON_INTERNAL_ERROR;
    /* A deny that claims "ok" is a plugin bug: deny it as forbidden. */
    return r == MCPAUTH_REASON_OK ? MCPAUTH_REASON_FORBIDDEN : r;
}

static void trace_put(mcpauth_trace_entry *t, const mcpauth_instance *in,
                      mcpauth_trace_vote v, const mcpauth_vote_result *r,
                      uint64_t ns)
{
    copy_known(t->name, sizeof(t->name), in->label, in->label_len);
    t->control = in->control;
    t->vote = v;
    t->reason = v == MCPAUTH_TRACE_DENY ? sane_reason(r->reason)
              : v == MCPAUTH_TRACE_ERROR ? MCPAUTH_REASON_INTERNAL_ERROR
                                         : MCPAUTH_REASON_OK;
    t->retry_after = r ? r->retry_after : 0;
    t->elapsed_ns = ns;
    mcpauth__strlcpy(t->detail, r && r->detail ? r->detail : "", sizeof(t->detail));
}

void mcpauth__decision_fail(mcpauth_decision *out, mcpauth_reason reason,
                            const char *plugin, const char *message)
{
    memset(out, 0, sizeof(*out));
    out->version = MCPAUTH_DECISION_VERSION;
    out->size = sizeof(*out);
    out->reason = reason;
    out->http_status = mcpauth_reason_http_status(reason);
    mcpauth__strlcpy(out->plugin, plugin ? plugin : "", sizeof(out->plugin));
    mcpauth__strlcpy(out->message, message ? message : mcpauth__reason_message(reason),
                     sizeof(out->message));
}

static void decision_set(mcpauth_decision *out, int allowed, mcpauth_reason reason,
                         const mcpauth_vote_result *r, const char *plugin,
                         size_t plugin_len)
{
    out->allowed = allowed;
    out->reason = reason;
    out->http_status = mcpauth_reason_http_status(reason);
    out->retry_after = !allowed && r && (reason == MCPAUTH_REASON_RATE_LIMITED ||
                                         reason == MCPAUTH_REASON_LOCKED_OUT)
                           ? (r->retry_after ? r->retry_after : 1) : 0;
    copy_known(out->plugin, sizeof(out->plugin), plugin, plugin_len);
    if (r && r->message) {
        mcpauth__strlcpy(out->message, r->message, sizeof(out->message));
    } else {
        size_t n;
        const char *m = mcpauth__reason_message_len(reason, &n);
        copy_known(out->message, sizeof(out->message), m, n);
    }
}

/* decision_set with the label of entry i as the deciding plugin. */
static void decision_set_at(mcpauth_stack *s, long i, mcpauth_decision *out,
                            int allowed, mcpauth_reason reason,
                            const mcpauth_vote_result *r)
{
    decision_set(out, allowed, reason, r, s->e[i].label, s->e[i].label_len);
}

/* Turn the running impression into the final decision. */
static const char *eval_finish(mcpauth_stack *s, const eval_state *e,
                               mcpauth_decision *out)
{
    const char *detail = NULL;
    if (e->error_at >= 0) {
        decision_set_at(s, e->error_at, out, 0, MCPAUTH_REASON_INTERNAL_ERROR, NULL);
        detail = "the plugin returned an error";
    } else if (e->imp == IMP_BAD) {
        decision_set_at(s, e->deny_at, out, 0, sane_reason(e->first_deny.reason),
                        &e->first_deny);
        detail = e->first_deny.detail;
    } else if (e->imp == IMP_GOOD) {
        decision_set_at(s, e->allow_at, out, 1, MCPAUTH_REASON_OK, NULL);
    } else if (e->opt_deny_at >= 0) {
        decision_set_at(s, e->opt_deny_at, out, 0, sane_reason(e->opt_deny.reason),
                        &e->opt_deny);
        detail = e->opt_deny.detail;
    } else if (e->opt_allow_at >= 0) {
        decision_set_at(s, e->opt_allow_at, out, 1, MCPAUTH_REASON_OK, NULL);
    } else {
        /* Fail closed: nobody vouched for the request. */
        decision_set(out, 0, MCPAUTH_REASON_FORBIDDEN, NULL, "", 0);
        detail = s->n ? "every plugin abstained" : "the stack is empty";
    }
    return detail;
}

/* Ask entry i for its vote and apply it; 1 when the stack stops here. */
static inline int eval_one(mcpauth_stack *s, mcpauth_ctx *ctx, const mcpauth_request *req,
                           eval_state *e, size_t i, mcpauth_vote_result *r)
{
    mcpauth_instance *in = &s->e[i];
    *r = (mcpauth_vote_result){ MCPAUTH_VOTE_ABSTAIN, MCPAUTH_REASON_OK, 0, NULL, NULL };
    mcpauth_status st = in->lib.desc->vote(in->state, ctx, req, r);
    if (st != MCPAUTH_OK || (unsigned)r->vote > MCPAUTH_VOTE_ABSTAIN) {
        /* An error ends the stack in deny, whatever the control flag. */
        e->error_at = (long)i;
        return 1;
    }
    return eval_apply(e, (long)i, in->control, r);
}

/* eval_run with a trace: each vote timed and recorded. */
static void eval_run_traced(mcpauth_stack *s, mcpauth_ctx *ctx, const mcpauth_request *req,
                            eval_state *e, mcpauth_trace_entry *trace, size_t cap,
                            size_t *ntrace)
{
    size_t i = 0;
    for (; i < s->n; i++) {
        mcpauth_vote_result r;
        uint64_t t0 = mcpauth__mono_ns();
        int stop = eval_one(s, ctx, req, e, i, &r);
        if (i < cap)
            trace_put(&trace[i], &s->e[i],
                      e->error_at == (long)i ? MCPAUTH_TRACE_ERROR : (mcpauth_trace_vote)r.vote,
                      &r, mcpauth__mono_ns() - t0);
        if (stop) {
            i++;
            break;
        }
    }
    for (size_t j = i; j < s->n && j < cap; j++)
        trace_put(&trace[j], &s->e[j], MCPAUTH_TRACE_SKIPPED, NULL, 0);
    if (ntrace)
        *ntrace = s->n < cap ? s->n : cap;
}

/* Run the entries in order until one stops the stack. Performance: the
 * untraced loop (every check a server makes) carries no trace tests or
 * clock reads; a stack of five plugins is ~70 instructions shorter. */
static void eval_run(mcpauth_stack *s, mcpauth_ctx *ctx, const mcpauth_request *req,
                     eval_state *e, mcpauth_trace_entry *trace, size_t cap,
                     size_t *ntrace)
{
    if (trace) {
        eval_run_traced(s, ctx, req, e, trace, cap, ntrace);
        return;
    }
    mcpauth_vote_result r;
    for (size_t i = 0; i < s->n; i++)
        if (eval_one(s, ctx, req, e, i, &r))
            break;
    if (ntrace)
        *ntrace = 0;
}

static void observe_all(mcpauth_stack *s, mcpauth_ctx *ctx, const mcpauth_request *req,
                        const mcpauth_decision *d, const char *detail, uint64_t ns)
{
    mcpauth_outcome o = {
        d->allowed, d->reason, d->http_status, d->retry_after, d->plugin,
        d->message, detail, mcpauth__ctx_principal(ctx), ns, req->now_ms,
    };
    for (size_t k = 0; k < s->nobservers; k++) {
        const mcpauth_instance *in = &s->e[s->observers[k]];
        in->lib.desc->observe(in->state, ctx, req, &o);
    }
}

static void decision_principal(mcpauth_decision *out, const mcpauth_ctx *ctx)
{
    const mcpauth_principal *p = &ctx->principal;
    out->has_principal = ctx->has_principal;
    if (!ctx->has_principal) {
        out->key_id[0] = out->key_name[0] = out->role[0] = out->key_type[0] = '\0';
        return;
    }
    mcpauth__strlcpy(out->key_id, p->key_id, sizeof(out->key_id));
    mcpauth__strlcpy(out->key_name, p->key_name, sizeof(out->key_name));
    mcpauth__strlcpy(out->role, p->role, sizeof(out->role));
    mcpauth__strlcpy(out->key_type, p->key_type, sizeof(out->key_type));
}

mcpauth_status mcpauth__stack_check(mcpauth_stack *s, const mcpauth_request *req,
                                    unsigned flags, mcpauth_decision *out,
                                    mcpauth_trace_entry *trace, size_t cap,
                                    size_t *ntrace, uint64_t t0)
{
    /* Performance: only the fields read before they are written are set.
     * Zeroing the whole context (the principal and the address too) took a
     * `rep stos`, ~1% of a `full` decision in perf. */
    mcpauth_ctx ctx;
    ctx.stack = s;
    ctx.req = req;
    ctx.addr_parsed = 0;
    ctx.has_principal = 0;
    ctx.release = NULL;
    ctx.release_arg = NULL;
    ctx.dry = (flags & MCPAUTH_CHECK_DRY_RUN) != 0;
    eval_state e;
    e.imp = IMP_UNDEF;
    e.deny_at = e.allow_at = e.opt_deny_at = e.opt_allow_at = e.error_at = -1;
    const char *detail = NULL;
    out->version = MCPAUTH_DECISION_VERSION;
    out->size = sizeof(*out);
    out->has_principal = 0;
    if (s->max_request_bytes && req->bytes > s->max_request_bytes) {
        /* Too large to look at: refused before any plugin runs. */
        decision_set(out, 0, MCPAUTH_REASON_TOO_LARGE, NULL, "limits",
                     sizeof("limits") - 1);
        detail = "request exceeds limits.max_request_bytes";
        if (ntrace)
            *ntrace = 0;
    } else {
        for (size_t k = 0; k < s->npreparers; k++) {
            const mcpauth_instance *in = &s->e[s->preparers[k]];
            in->lib.desc->prepare(in->state, req);
        }
        eval_run(s, &ctx, req, &e, trace, cap, ntrace);
        detail = eval_finish(s, &e, out);
    }
    decision_principal(out, &ctx);
    out->latency_ns = t0 ? mcpauth__mono_ns() - t0 : 0;
    if (!ctx.dry && s->nobservers)
        observe_all(s, &ctx, req, out, detail, out->latency_ns);
    ctx_release(&ctx);
    return e.error_at >= 0 ? MCPAUTH_EPLUGIN : MCPAUTH_OK;
}
