/*
 * audit_file.c: the audit-file plugin. Records every decision (allows
 * unless log_allows: false) and every event as a hash-chained JSON line
 * (core/audit_line.h, docs/audit.md). It votes only with on_error: deny,
 * when the log cannot be written; otherwise it abstains.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/plugin.h"
#include "record.h"
#include "writer.h"

typedef struct af_state {
    const mcpauth_services *svc;
    void *core;
    af_writer *w;
    int log_allows;
    int deny_on_error;
    int fsync_always;
} af_state;

/* Read `key` as one of `names` (index into *out); EPOLICY after reporting. */
static mcpauth_status af_choice(const mcpauth_services *svc,
                                const mcpauth_config *c, const char *key,
                                const char *const *names, int *out)
{
    const char *v;
    mcpauth_status st = svc->config_string(c, key, &v);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return MCPAUTH_OK;
        }
    svc->config_error(c, key, "'%s' is not one of %s|%s%s%s", v, names[0],
                      names[1], names[2] ? "|" : "", names[2] ? names[2] : "");
    return MCPAUTH_EPOLICY;
}

/* Read an integer in [min, max]; EPOLICY after reporting. */
static mcpauth_status af_int(const mcpauth_services *svc,
                             const mcpauth_config *c, const char *key,
                             int64_t min, int64_t max, int64_t *out)
{
    int64_t v;
    mcpauth_status st = svc->config_int(c, key, &v);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (v < min || v > max) {
        svc->config_error(c, key, "must be between %lld and %lld",
                          (long long)min, (long long)max);
        return MCPAUTH_EPOLICY;
    }
    *out = v;
    return MCPAUTH_OK;
}

static mcpauth_status af_bool(const mcpauth_services *svc,
                              const mcpauth_config *c, const char *key,
                              int *out)
{
    mcpauth_status st = svc->config_bool(c, key, out);
    return st == MCPAUTH_OK || st == MCPAUTH_ENOTFOUND ? MCPAUTH_OK
                                                       : MCPAUTH_EPOLICY;
}

static mcpauth_status af_path(const mcpauth_services *svc,
                              const mcpauth_config *c, char *out, size_t cap)
{
    const char *p;
    mcpauth_status st = svc->config_string(c, "path", &p);
    if (st == MCPAUTH_ENOTFOUND)
        svc->config_error(c, NULL, "audit-file needs a 'path' for its log");
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (!p[0] || svc->config_path(c, p, out, cap) != MCPAUTH_OK) {
        svc->config_error(c, "path", "not a usable file path");
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

/* Every key, read even when it holds the default (unread keys are errors). */
static mcpauth_status af_read_config(af_state *s, const mcpauth_config *c,
                                     char *path, size_t cap, af_settings *set)
{
    static const char *const fsyncs[] = { "never", "interval", "always", NULL };
    static const char *const on_error[] = { "allow", "deny", NULL };
    const mcpauth_services *svc = s->svc;
    int fsync = AF_FSYNC_INTERVAL, deny = 0;
    int64_t rotate = 10 << 20, keep = 10;
    s->log_allows = 1;
    if (af_path(svc, c, path, cap) || af_choice(svc, c, "fsync", fsyncs, &fsync) ||
        af_int(svc, c, "rotate_bytes", 1, INT64_MAX, &rotate) ||
        af_int(svc, c, "keep", 0, 1000, &keep) ||
        af_bool(svc, c, "log_allows", &s->log_allows) ||
        af_choice(svc, c, "on_error", on_error, &deny))
        return MCPAUTH_EPOLICY;
    set->fsync = (af_fsync)fsync;
    set->rotate_bytes = (uint64_t)rotate;
    set->keep = (unsigned)keep;
    s->deny_on_error = deny;
    s->fsync_always = fsync == AF_FSYNC_ALWAYS;
    return MCPAUTH_OK;
}

/* Log the writer's news (a failure or a recovery) once. */
static void af_report(af_state *s)
{
    char msg[512];
    int level = af_writer_take_report(s->w, msg, sizeof(msg));
    if (level >= 0)
        s->svc->log(s->core, (mcpauth_log_level)level, "%s", msg);
}

static mcpauth_status af_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    char path[PATH_MAX];
    af_settings set;
    af_state *s = calloc(1, sizeof(*s));
    if (!s)
        return MCPAUTH_ENOMEM;
    s->svc = env->svc;
    s->core = env->core;
    mcpauth_status st = af_read_config(s, config, path, sizeof(path), &set);
    if (st == MCPAUTH_OK && !(s->w = af_writer_acquire(path, &set)))
        st = MCPAUTH_ENOMEM;
    if (st != MCPAUTH_OK) {
        free(s);
        return st;
    }
    af_report(s);
    *state = s;
    return MCPAUTH_OK;
}

static mcpauth_status af_vote(void *state, mcpauth_ctx *ctx,
                              const mcpauth_request *req,
                              mcpauth_vote_result *out)
{
    af_state *s = state;
    (void)ctx;
    (void)req;
    if (s->deny_on_error && af_writer_failed(s->w)) {
        out->vote = MCPAUTH_VOTE_DENY;
        out->reason = MCPAUTH_REASON_INTERNAL_ERROR;
        out->message = "the audit log cannot be written";
        out->detail = "audit-file: the log cannot be written and on_error "
                      "is deny";
    }
    return MCPAUTH_OK;
}

/* Format the decision (and key.expired) into a stack buffer, on the heap
 * only for unusually long records, and queue it. 4 KiB because the
 * formatter reserves the worst case (every string byte escaped to 6), about
 * 1.5 KiB for a usual record: a smaller buffer would mean a malloc each. */
static void af_enqueue_decision(af_state *s, const mcpauth_request *req,
                                const mcpauth_outcome *o)
{
    char stack[4096];
    mcpauth__abuf b;
    mcpauth__abuf_init(&b, stack, sizeof(stack));
    af_format_decision(&b, req, o);
    if (!b.oom)
        af_writer_enqueue(s->w, b.p, b.len);
    if (!o->allowed && o->reason == MCPAUTH_REASON_EXPIRED) {
        const mcpauth_principal *p = o->principal;
        b.len = 0;
        af_format_event(&b, "key.expired", o->now_ms, p ? p->key_id : NULL,
                        p ? p->key_name : NULL, p ? p->role : NULL, o->detail);
        if (!b.oom)
            af_writer_enqueue(s->w, b.p, b.len);
    }
    mcpauth__abuf_free(&b);
}

static void af_observe(void *state, mcpauth_ctx *ctx,
                       const mcpauth_request *req, const mcpauth_outcome *o)
{
    af_state *s = state;
    if (s->svc->dry_run(ctx) || (o->allowed && !s->log_allows))
        return;
    af_enqueue_decision(s, req, o);
    if (s->fsync_always)
        af_writer_flush(s->w, 1);
    af_report(s);
}

static void af_event(void *state, const mcpauth_event *ev)
{
    af_state *s = state;
    char stack[512];
    mcpauth__abuf b;
    mcpauth__abuf_init(&b, stack, sizeof(stack));
    af_format_event(&b, ev->type, ev->time_ms ? ev->time_ms : mcpauth_now_ms(),
                    ev->key_id, ev->key_name, ev->role, ev->detail);
    if (!b.oom)
        af_writer_enqueue(s->w, b.p, b.len);
    mcpauth__abuf_free(&b);
    if (s->fsync_always)
        af_writer_flush(s->w, 1);
    af_report(s);
}

/* Flush this instance's records; the last instance on a file closes it and
 * logs where the chain ends, a hash worth keeping elsewhere. */
static void af_destroy(void *state)
{
    af_state *s = state;
    uint64_t seq;
    char hash[MCPAUTH__AUDIT_HASH_HEX + 1];
    if (!s)
        return;
    af_writer_flush(s->w, 0);
    af_report(s);
    if (af_writer_release(s->w, &seq, hash))
        s->svc->log(s->core, MCPAUTH_LOG_INFO,
                    "audit-file: log closed at seq %llu, last hash %s",
                    (unsigned long long)seq, hash);
    free(s);
}

static const mcpauth_plugin af_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "audit-file",
    "tamper-evident JSON-lines audit log of decisions and key events",
    af_create, af_vote, af_observe, af_event, af_destroy,
    0, /* flags: the record carries latency_ns, so observe is timed */
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(af_plugin)
