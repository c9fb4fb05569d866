/* handler.c: one HTTP request of the Streamable HTTP transport, from its
 * headers to its answer. The order of the steps is the point:
 *
 *   1. path and Origin (DNS rebinding): before anything else, unaudited;
 *   2. parse the body (to learn the method, tool and resource);
 *   3. a JSON-RPC request, or a body that is not a valid message: one
 *      mcpauth_check, one audit record; then the transport headers
 *      (Content-Type, Accept, MCP-Protocol-Version), JSON-RPC validity, the
 *      session, and dispatch;
 *   4. a notification, a client's response, or DELETE (ending a session):
 *      nothing for the policy to authorise - the role plugin judges
 *      requests only - so they need the key's own session, and the key is
 *      authenticated by a dry run (no quota, no audit record).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dispatch.h"
#include "gate.h"
#include "rpc.h"
#include "server.h"

#define SRV_TRANSPORT_ERROR -32000

void srv_reply_clear(srv_reply *r)
{
    json_decref(r->body);
    r->body = NULL;
}

static void srv_fail(srv_reply *r, int status, json_t *id, int code, const char *message)
{
    r->status = status;
    json_decref(r->body);
    r->body = rpc_error(id, code, message, NULL);
}

/* Loopback origins only: a page on any other site must not reach a server
 * on this machine through the browser. "scheme://host[:port]" exactly. */
static int srv_origin_ok(const char *origin)
{
    static const char *const hosts[] = { "localhost", "127.0.0.1", "[::1]" };
    const char *p;
    if (!origin)
        return 1;
    if (strncasecmp(origin, "http://", 7) == 0)
        p = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        p = origin + 8;
    else
        return 0;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = strlen(hosts[i]);
        if (strncasecmp(p, hosts[i], n) != 0)
            continue;
        p += n;
        if (*p == ':' && p[1])
            p += 1 + strspn(p + 1, "0123456789");
        return *p == '\0';
    }
    return 0;
}

/* Content-Type, Accept and MCP-Protocol-Version. Returns 0 when they are
 * acceptable, else fills r and returns -1. */
static int srv_post_headers(const srv_http *h, const rpc_msg *m, srv_reply *r)
{
    const char *ct = h->content_type, *acc = h->accept, *v = h->protocol_version;
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        srv_fail(r, 415, m->id, SRV_TRANSPORT_ERROR,
                 "Unsupported Media Type: send Content-Type: application/json");
        return -1;
    }
    if (acc && !strstr(acc, "application/json") && !strstr(acc, "*/*") &&
        !strstr(acc, "application/*")) {
        srv_fail(r, 406, m->id, SRV_TRANSPORT_ERROR,
                 "Not Acceptable: this server answers application/json");
        return -1;
    }
    if (v && strcmp(v, SRV_PROTOCOL_LATEST) != 0 && strcmp(v, SRV_PROTOCOL_PREVIOUS) != 0) {
        srv_fail(r, 400, m->id, SRV_TRANSPORT_ERROR,
                 "Bad Request: unsupported MCP-Protocol-Version (this server speaks "
                 SRV_PROTOCOL_LATEST " and " SRV_PROTOCOL_PREVIOUS ")");
        return -1;
    }
    return 0;
}

static int srv_no_session(const srv_http *h, json_t *id, srv_reply *r)
{
    if (h->session_id && *h->session_id)
        return 0;
    srv_fail(r, 400, id, SRV_TRANSPORT_ERROR, "Bad Request: Mcp-Session-Id header is required");
    return -1;
}

/* A session is required after initialize: 400 without one, 404 for one
 * that was never issued, has ended, or belongs to another key. */
static int srv_session_ok(srv *s, const srv_http *h, const char *key_id, json_t *id,
                          srv_reply *r)
{
    if (srv_no_session(h, id, r) != 0)
        return -1;
    if (srv_session_find(s->sessions, h->session_id, key_id) != SRV_SESSION_OK) {
        srv_fail(r, 404, id, SRV_TRANSPORT_ERROR, "Session not found: initialize again");
        return -1;
    }
    return 0;
}

/* Run the check and keep what the access log shows. */
static void srv_check(srv *s, const mcpauth_request *req, mcpauth_decision *d, srv_reply *r)
{
    (void)mcpauth_check(s->auth, req, d);   /* a failure is a deny in *d */
    r->reason = mcpauth_reason_name(d->reason);
    if (d->has_principal)
        snprintf(r->key_id, sizeof r->key_id, "%s", d->key_id);
}

/* A body that is not a valid message has no method to authorise, so the
 * role plugin's `forbidden` says nothing about it: the other denials
 * (credentials, address, rate, size) apply, and otherwise it gets its
 * JSON-RPC error. Its audit record shows the policy's verdict. */
static int srv_denied(const mcpauth_decision *d, int has_method)
{
    return !d->allowed && (has_method || d->reason != MCPAUTH_REASON_FORBIDDEN);
}

/* Step 4: the session must exist (checked first, so that nobody without a
 * session can use this path to test keys), the key must still be good, and
 * the session must be that key's. Returns 0, or -1 with r filled. */
static int srv_session_caller(srv *s, const srv_http *h, const char *method, json_t *id,
                              srv_reply *r)
{
    mcpauth_request req;
    mcpauth_decision d;
    if (srv_session_ok(s, h, NULL, id, r) != 0)
        return -1;
    gate_request(s, h, method, NULL, NULL, &req);
    (void)mcpauth_check_ex(s->auth, &req, MCPAUTH_CHECK_DRY_RUN, &d, NULL, 0, NULL);
    r->reason = mcpauth_reason_name(d.reason);
    if (d.has_principal)
        snprintf(r->key_id, sizeof r->key_id, "%s", d.key_id);
    if (srv_denied(&d, 0)) {
        gate_deny(&d, id, r);
        return -1;
    }
    return srv_session_ok(s, h, d.has_principal ? d.key_id : "", id, r);
}

/* The rest of step 3, once the check allowed the request. */
static void srv_serve(srv *s, const srv_http *h, const rpc_msg *m,
                      const mcpauth_request *req, const char *key_id, srv_reply *r)
{
    int is_init = m->kind == RPC_REQUEST && strcmp(m->method, "initialize") == 0;
    if (srv_post_headers(h, m, r) != 0)
        return;
    if (m->kind == RPC_INVALID) {
        srv_fail(r, 400, m->id, m->code, m->error);
        return;
    }
    if (!is_init && srv_session_ok(s, h, key_id, m->id, r) != 0)
        return;
    r->body = dispatch_request(s, m, req);
    r->status = r->body ? 200 : 500;
    if (is_init && json_object_get(r->body, "result") &&
        srv_session_start(s->sessions, key_id, r->session_id) != 0)
        srv_fail(r, 500, m->id, RPC_INTERNAL_ERROR, "Internal error: no session");
}

static void srv_post(srv *s, const srv_http *h, srv_reply *r)
{
    rpc_msg m;
    mcpauth_request req;
    mcpauth_decision d;
    if (h->too_big) {
        memset(&m, 0, sizeof m);   /* never parsed: an invalid message */
        m.kind = RPC_INVALID;
    } else {
        rpc_parse(h->body, h->body_len, &m);
    }
    if (m.method)
        snprintf(r->rpc_method, sizeof r->rpc_method, "%s", m.method);
    if (rpc_tool(&m))
        snprintf(r->tool, sizeof r->tool, "%s", rpc_tool(&m));
    if (m.kind == RPC_NOTIFICATION || m.kind == RPC_RESPONSE) {
        if (srv_post_headers(h, &m, r) == 0 && srv_session_caller(s, h, m.method, NULL, r) == 0)
            r->status = 202;   /* accepted, no body */
        rpc_msg_free(&m);
        return;
    }
    gate_request(s, h, m.method, rpc_tool(&m), rpc_resource(&m), &req);
    srv_check(s, &req, &d, r);
    if (srv_denied(&d, m.method != NULL))
        gate_deny(&d, m.id, r);
    else if (h->too_big)   /* the policy allows more than this server buffers */
        srv_fail(r, 413, NULL, -32013, "Request too large");
    else
        srv_serve(s, h, &m, &req, d.has_principal ? d.key_id : "", r);
    rpc_msg_free(&m);
}

static void srv_delete(srv *s, const srv_http *h, srv_reply *r)
{
    if (srv_session_caller(s, h, NULL, NULL, r) != 0)
        return;
    srv_session_end(s->sessions, h->session_id, r->key_id);
    r->status = 204;
}

void srv_handle(srv *s, const srv_http *h, srv_reply *r)
{
    memset(r, 0, sizeof *r);
    r->reason = "";
    if (strcmp(h->path, "/mcp") != 0) {
        srv_fail(r, 404, NULL, SRV_TRANSPORT_ERROR, "Not Found: the MCP endpoint is /mcp");
    } else if (!srv_origin_ok(h->origin)) {
        srv_fail(r, 403, NULL, SRV_TRANSPORT_ERROR, "Forbidden: Origin not allowed");
    } else if (strcmp(h->verb, "POST") == 0) {
        srv_post(s, h, r);
    } else if (strcmp(h->verb, "DELETE") == 0) {
        srv_delete(s, h, r);
    } else {
        /* GET included: this server never opens a server-to-client stream. */
        srv_fail(r, 405, NULL, SRV_TRANSPORT_ERROR, "Method Not Allowed: use POST");
        r->allow = "POST, DELETE";
    }
}
