/* api.c: the embedding API: open, check, reload, close. The current stack
 * is published through rcu so that checks never wait for a reload. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rcu.h"
#include "stack.h"

struct mcpauth {
    mcpauth_rcu current;     /* mcpauth_stack * */
    char *path;              /* policy file, or NULL for a string policy */
    char *yaml;              /* string policy, or NULL */
    char *base_dir;
    mcpauth_log_fn log;
    void *log_arg;
    pthread_mutex_t reload_lock;
};

static mcpauth_status load_stack(mcpauth *a, mcpauth_stack **out, mcpauth_error *err)
{
    mcpauth_policy_spec *spec = NULL;
    mcpauth_status st = mcpauth__policy_parse(a->path, a->yaml, a->base_dir, &spec, err);
    if (st == MCPAUTH_OK)
        st = mcpauth__stack_build(spec, a->log, a->log_arg, out, err);
    mcpauth__policy_free(spec);
    return st;
}

static void emit_simple(mcpauth_stack *s, const char *type, const char *detail)
{
    mcpauth_event ev = { type, mcpauth_now_ms(), NULL, NULL, NULL, detail };
    mcpauth__stack_emit(s, &ev);
}

static void api_free(mcpauth *a)
{
    free(a->path);
    free(a->yaml);
    free(a->base_dir);
    pthread_mutex_destroy(&a->reload_lock);
    free(a);
}

mcpauth_status mcpauth_open_ex(mcpauth **out, const char *policy_path, const char *yaml,
                               const mcpauth_options *opts, mcpauth_error *err)
{
    *out = NULL;
    if (err)
        err->status = MCPAUTH_OK, err->message[0] = '\0';
    if (!policy_path == !yaml)
        return mcpauth__err(err, MCPAUTH_EINVAL, "give either a policy path or a YAML string");
    if (opts && (opts->version != MCPAUTH_OPTIONS_VERSION || opts->size < sizeof(*opts)))
        return mcpauth__err(err, MCPAUTH_EINVAL, "mcpauth_options: unknown version or size");
    mcpauth *a = calloc(1, sizeof(*a));
    if (!a)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    pthread_mutex_init(&a->reload_lock, NULL);
    a->path = mcpauth__strdup(policy_path);
    a->yaml = mcpauth__strdup(yaml);
    if (opts) {
        a->log = opts->log;
        a->log_arg = opts->log_arg;
        a->base_dir = mcpauth__strdup(opts->base_dir);
    }
    if ((policy_path && !a->path) || (yaml && !a->yaml)) {
        api_free(a);
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    }
    mcpauth_stack *s = NULL;
    mcpauth_status st = load_stack(a, &s, err);
    if (st) {
        api_free(a);
        return st;
    }
    mcpauth__rcu_init(&a->current, s);
    emit_simple(s, "policy.loaded", a->path ? a->path : "<string>");
    *out = a;
    return MCPAUTH_OK;
}

mcpauth_status mcpauth_open(mcpauth **out, const char *policy_path, mcpauth_error *err)
{
    return mcpauth_open_ex(out, policy_path, NULL, NULL, err);
}

mcpauth_status mcpauth_open_string(mcpauth **out, const char *yaml, mcpauth_error *err)
{
    return mcpauth_open_ex(out, NULL, yaml, NULL, err);
}

/*
 * Performance: a check needs the wall clock for now_ms (unless the caller
 * injected it, or no entry reads it: MCPAUTH_PLUGIN_NO_CLOCK) and, when it
 * is timed, a monotonic start for latency_ns. On the bench machine (a VM)
 * each precise clock read costs 28 to 55 ns, as much as the core itself
 * spends on five votes (docs/performance.md). A timed check derives the
 * wall clock from its monotonic start reading with a per-thread offset
 * that is read afresh once a millisecond, so a step of the wall clock shows
 * within a millisecond; an untimed check reads CLOCK_REALTIME once. The
 * coarse clock (6 ns) was tried and dropped: it trails by a kernel tick
 * (4 ms here, up to 10 ms elsewhere), and a key must stop working when it
 * expires, not a tick later.
 */
#define API_WALL_REFRESH_NS 1000000u

/* initial-exec: one load off the thread pointer instead of a call to
 * __tls_get_addr on every check (see rcu_thread_slot in rcu.c). */
static _Thread_local struct {
    uint64_t mono_at;   /* when off was taken; 0: never */
    int64_t off_ns;     /* CLOCK_REALTIME - CLOCK_MONOTONIC */
} api_wall __attribute__((tls_model("initial-exec")));

static int64_t api_wall_ms(uint64_t mono_ns)
{
    if (!api_wall.mono_at || mono_ns - api_wall.mono_at >= API_WALL_REFRESH_NS) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t m = mcpauth__mono_ns();
        api_wall.off_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - (int64_t)m;
        api_wall.mono_at = m;
    }
    int64_t ns = (int64_t)mono_ns + api_wall.off_ns;
    return ns / 1000000;
}

static int request_ok(const mcpauth_request *req)
{
    return req && req->version == MCPAUTH_REQUEST_VERSION &&
           req->size >= sizeof(mcpauth_request);
}

mcpauth_status mcpauth_check_ex(mcpauth *a, const mcpauth_request *req, unsigned flags,
                                mcpauth_decision *out, mcpauth_trace_entry *trace,
                                size_t cap, size_t *ntrace)
{
    if (ntrace)
        *ntrace = 0;
    if (!a || !request_ok(req)) {
        /* Fail closed on misuse rather than trusting garbage. */
        mcpauth__decision_fail(out, MCPAUTH_REASON_INTERNAL_ERROR, "",
                               !a ? "no policy loaded" : NULL);
        return MCPAUTH_EINVAL;
    }
    mcpauth_rcu_ticket t;
    mcpauth_stack *s = mcpauth__rcu_lock(&a->current, &t);
    uint64_t t0 = mcpauth__stack_timed(s, flags, trace) ? mcpauth__mono_ns() : 0;
    mcpauth_request r = *req;
    if (r.now_ms == 0 && s->nclocked)
        r.now_ms = t0 ? api_wall_ms(t0) : mcpauth_now_ms();
    mcpauth_status st = mcpauth__stack_check(s, &r, flags, out, trace, cap, ntrace, t0);
    mcpauth__rcu_unlock(&a->current, &t);
    return st;
}

mcpauth_status mcpauth_check(mcpauth *a, const mcpauth_request *req, mcpauth_decision *out)
{
    return mcpauth_check_ex(a, req, 0, out, NULL, 0, NULL);
}

mcpauth_status mcpauth_permits(mcpauth *a, const mcpauth_request *req, int *allowed)
{
    mcpauth_decision d;
    mcpauth_status st = mcpauth_check_ex(a, req, MCPAUTH_CHECK_DRY_RUN, &d, NULL, 0, NULL);
    *allowed = st == MCPAUTH_OK && d.allowed;
    return st;
}

mcpauth_status mcpauth_reload(mcpauth *a, mcpauth_error *err)
{
    if (err)
        err->status = MCPAUTH_OK, err->message[0] = '\0';
    pthread_mutex_lock(&a->reload_lock);
    mcpauth_stack *next = NULL;
    mcpauth_status st = load_stack(a, &next, err);
    if (st) {
        /* The old policy keeps serving; tell its plugins (audit) why. */
        emit_simple(mcpauth__rcu_peek(&a->current), "policy.reload_failed",
                    err ? err->message : mcpauth_status_str(st));
    } else {
        int reclaim;
        mcpauth_stack *old = mcpauth__rcu_swap(&a->current, next, &reclaim);
        if (reclaim)
            mcpauth__stack_free(old);
        else if (a->log) /* a check may still hold it: kept, not freed */
            a->log(a->log_arg, MCPAUTH_LOG_ERROR,
                   "reload: membarrier(2) was refused, so the previous policy "
                   "is kept in memory rather than freed under a check; allow "
                   "membarrier in the seccomp filter (docs/embedding.md)");
        emit_simple(next, "policy.loaded", a->path ? a->path : "<string>");
    }
    pthread_mutex_unlock(&a->reload_lock);
    return st;
}

void mcpauth_notify(mcpauth *a, const char *type, const char *key_id,
                    const char *key_name, const char *role, const char *detail)
{
    if (!a || !type)
        return;
    mcpauth_event ev = { type, mcpauth_now_ms(), key_id, key_name, role, detail };
    mcpauth_rcu_ticket t;
    mcpauth_stack *s = mcpauth__rcu_lock(&a->current, &t);
    mcpauth__stack_emit(s, &ev);
    mcpauth__rcu_unlock(&a->current, &t);
}

/* Inspection takes the reload lock so that a reload cannot free the stack
 * while it is read; the pointers handed out stay valid until the next
 * reload, as the header says. */
size_t mcpauth_stack_size(mcpauth *a)
{
    if (!a)
        return 0;
    pthread_mutex_lock(&a->reload_lock);
    mcpauth_stack *s = mcpauth__rcu_peek(&a->current);
    size_t n = s ? s->n : 0;
    pthread_mutex_unlock(&a->reload_lock);
    return n;
}

mcpauth_status mcpauth_stack_entry(mcpauth *a, size_t i, const char **label,
                                   mcpauth_control *control, const char **so_path)
{
    if (!a)
        return MCPAUTH_EINVAL;
    mcpauth_status st = MCPAUTH_OK;
    pthread_mutex_lock(&a->reload_lock);
    mcpauth_stack *s = mcpauth__rcu_peek(&a->current);
    if (!s || i >= s->n) {
        st = MCPAUTH_ERANGE;
    } else {
        if (label)
            *label = s->e[i].label;
        if (control)
            *control = s->e[i].control;
        if (so_path)
            *so_path = s->e[i].lib.path;
    }
    pthread_mutex_unlock(&a->reload_lock);
    return st;
}

void mcpauth_close(mcpauth *a)
{
    if (!a)
        return;
    /* No check may run any more (mcpauth.h), whatever the wait says. */
    int reclaim;
    mcpauth__stack_free(mcpauth__rcu_swap(&a->current, NULL, &reclaim));
    mcpauth__rcu_destroy(&a->current);
    api_free(a);
}
