/* role.c: the role plugin. Votes on whether the principal's role lets it
 * call this method, tool or resource. Every role is compiled at create
 * (role_config.c); a vote only reads that table, so it is thread-safe and
 * allocates nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/plugin.h"
#include "role.h"

typedef struct role_state {
    const mcpauth_services *svc;
    role_table table;
} role_state;

/* Detail texts must outlive the vote, and they name the request's role and
 * tool, so they are formatted into a per-thread buffer: it stays valid until
 * this thread's next vote, which comes after the core has copied it into the
 * trace and handed it to observe. */
static _Thread_local char role_detail_buf[256];

static mcpauth_status role_create(void **state, const mcpauth_plugin_env *env,
                                  const mcpauth_config *config)
{
    role_state *s = calloc(1, sizeof(*s));
    if (!s)
        return MCPAUTH_ENOMEM;
    s->svc = env->svc;
    mcpauth_status st = role_table_build(&s->table, env->svc, config);
    if (st != MCPAUTH_OK) {
        free(s);
        return st;
    }
    *state = s;
    return MCPAUTH_OK;
}

static void role_deny(mcpauth_vote_result *out, mcpauth_reason reason,
                      const char *message, const char *fmt, ...)
    MCPAUTH_PRINTF(4, 5);

static void role_deny(mcpauth_vote_result *out, mcpauth_reason reason,
                      const char *message, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(role_detail_buf, sizeof(role_detail_buf), fmt, ap);
    va_end(ap);
    out->vote = MCPAUTH_VOTE_DENY;
    out->reason = reason;
    out->message = message;
    out->detail = role_detail_buf;
}

/* Allowed by the role's sets, and not denied: a deny always wins. */
static int role_permits(const role_compiled *r, int kind, const char *what)
{
    return role_patset_match(&r->allow[kind], what) &&
           !role_patset_match(&r->deny[kind], what);
}

/* A key's own tool patterns narrow its role (never widen it): the tool must
 * match one of them as well. NULL or empty means the key has none. */
static int role_key_permits_tool(const mcpauth_principal *p, const char *tool)
{
    if (!p->allowed_tools || !p->allowed_tools[0])
        return 1;
    for (size_t i = 0; p->allowed_tools[i]; i++)
        if (role_glob_match(p->allowed_tools[i], tool))
            return 1;
    return 0;
}

/* The tool or resource part of a request, for the two methods that name
 * one. Returns 1 when allowed; on deny fills out. */
static int role_check_target(const role_compiled *r,
                             const mcpauth_principal *p,
                             const mcpauth_request *req,
                             mcpauth_vote_result *out)
{
    static const char msg[] = "this key's role does not allow that";
    if (strcmp(req->method, "tools/call") == 0) {
        if (!req->tool || !*req->tool) {
            role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                      "role '%s': tools/call without a tool name", r->name);
            return 0;
        }
        if (!role_permits(r, ROLE_TOOLS, req->tool)) {
            role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                      "role '%s' may not call tool '%s'", r->name, req->tool);
            return 0;
        }
        if (!role_key_permits_tool(p, req->tool)) {
            role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                      "the key's own tool patterns exclude tool '%s'",
                      req->tool);
            return 0;
        }
    } else if (strcmp(req->method, "resources/read") == 0) {
        if (!req->resource || !*req->resource) {
            role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                      "role '%s': resources/read without a resource", r->name);
            return 0;
        }
        if (!role_permits(r, ROLE_RESOURCES, req->resource)) {
            role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                      "role '%s' may not read resource '%s'", r->name,
                      req->resource);
            return 0;
        }
    }
    return 1;
}

/* Who is asking and may their role be held by this key at this size? */
static const role_compiled *role_lookup(const role_state *s,
                                        const mcpauth_principal *p,
                                        const mcpauth_request *req,
                                        mcpauth_vote_result *out)
{
    static const char msg[] = "this key's role does not allow that";
    if (!p->role || !*p->role) {
        role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                  "key '%s' has no role", p->key_id ? p->key_id : "?");
        return NULL;
    }
    const role_compiled *r = role_table_find(&s->table, p->role);
    if (!r) {
        role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                  "role '%s' is not defined by the policy", p->role);
        return NULL;
    }
    if (!(r->key_types & role_key_type_bit(p->key_type))) {
        role_deny(out, MCPAUTH_REASON_FORBIDDEN, msg,
                  "role '%s' may not be held by a %s key", r->name,
                  p->key_type ? p->key_type : "untyped");
        return NULL;
    }
    if (r->max_bytes && req->bytes > r->max_bytes) {
        role_deny(out, MCPAUTH_REASON_TOO_LARGE, "request too large",
                  "request of %llu bytes exceeds max_request_bytes %llu of "
                  "role '%s'", (unsigned long long)req->bytes,
                  (unsigned long long)r->max_bytes, r->name);
        return NULL;
    }
    return r;
}

static mcpauth_status role_vote(void *state, mcpauth_ctx *ctx,
                                const mcpauth_request *req,
                                mcpauth_vote_result *out)
{
    const role_state *s = state;
    const mcpauth_principal *p = s->svc->principal(ctx);
    if (!p) {
        out->vote = MCPAUTH_VOTE_DENY;
        out->reason = MCPAUTH_REASON_NO_CREDENTIALS;
        out->detail = "no principal: no authenticating plugin ran before role";
        return MCPAUTH_OK;
    }
    const role_compiled *r = role_lookup(s, p, req, out);
    if (!r)
        return MCPAUTH_OK;
    if (!req->method || !*req->method) {
        role_deny(out, MCPAUTH_REASON_FORBIDDEN, "request has no method",
                  "role '%s': request has no method", r->name);
        return MCPAUTH_OK;
    }
    if (!role_permits(r, ROLE_METHODS, req->method)) {
        role_deny(out, MCPAUTH_REASON_FORBIDDEN,
                  "this key's role does not allow that",
                  "role '%s' may not call method '%s'", r->name, req->method);
        return MCPAUTH_OK;
    }
    if (role_check_target(r, p, req, out))
        out->vote = MCPAUTH_VOTE_ALLOW;
    return MCPAUTH_OK;
}

static void role_destroy(void *state)
{
    role_state *s = state;
    if (!s)
        return;
    role_table_free(&s->table);
    free(s);
}

static const mcpauth_plugin role_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION,
    (uint32_t)sizeof(mcpauth_plugin),
    "role",
    "role-based access control over methods, tools and resources",
    role_create,
    role_vote,
    NULL,
    NULL,
    role_destroy,
    MCPAUTH_PLUGIN_NO_CLOCK, /* decides on the principal and target alone */
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(role_plugin)
