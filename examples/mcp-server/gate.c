/* gate.c: building checks and answering denials. */
#include "gate.h"

#include "rpc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *gate_credential(const srv_http *h)
{
    const char *a = h->authorization;
    if (a && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ')
            a++;
        return *a ? a : NULL;
    }
    if (h->api_key && *h->api_key)
        return h->api_key;
    return NULL;
}

void gate_request(const srv *s, const srv_http *h, const char *method,
                  const char *tool, const char *resource, mcpauth_request *req)
{
    mcpauth_request init = MCPAUTH_REQUEST_INIT;
    *req = init;
    req->credential = gate_credential(h);
    /* Anyone can write X-Forwarded-For; only a proxy we were told to trust
     * gets to say who its client is (srv_resolve_client in http.c). The
     * header is passed on too, for a policy whose ipwhitelist skips hops. */
    req->client_ip = h->client ? h->client : h->peer;
    if (h->forwarded_for && srv_cidr_match(s->trusted, s->ntrusted, h->peer))
        req->forwarded_for = h->forwarded_for;
    req->method = method;
    req->tool = tool;
    req->resource = resource;
    req->transport = "http";
    req->bytes = h->bytes;
}

/* JSON-RPC leaves codes -32000..-32099 to servers; these name the HTTP
 * answer so that a client reading only the body still knows what happened. */
static int gate_code(mcpauth_reason reason, const char **title)
{
    switch (reason) {
    case MCPAUTH_REASON_NO_CREDENTIALS:
    case MCPAUTH_REASON_BAD_CREDENTIALS:
    case MCPAUTH_REASON_EXPIRED:
    case MCPAUTH_REASON_REVOKED:
        *title = "Unauthorized";
        return -32001;
    case MCPAUTH_REASON_FORBIDDEN:
    case MCPAUTH_REASON_IP_DENIED:
        *title = "Forbidden";
        return -32003;
    case MCPAUTH_REASON_RATE_LIMITED:
    case MCPAUTH_REASON_LOCKED_OUT:
        *title = "Too many requests";
        return -32029;
    case MCPAUTH_REASON_TOO_LARGE:
        *title = "Request too large";
        return -32013;
    default:
        *title = "Internal error";
        return -32603;
    }
}

/* RFC 6750 section 3: no error code when no credentials were sent;
 * invalid_token when the token is bad, expired or revoked. */
static void gate_www_authenticate(mcpauth_reason reason, char *out, size_t cap)
{
    out[0] = '\0';
    if (reason == MCPAUTH_REASON_NO_CREDENTIALS)
        snprintf(out, cap, "Bearer realm=\"%s\"", SRV_NAME);
    else if (reason == MCPAUTH_REASON_BAD_CREDENTIALS || reason == MCPAUTH_REASON_EXPIRED ||
             reason == MCPAUTH_REASON_REVOKED)
        snprintf(out, cap, "Bearer realm=\"%s\", error=\"invalid_token\", "
                 "error_description=\"%s\"", SRV_NAME, mcpauth_reason_name(reason));
}

void gate_deny(const mcpauth_decision *d, json_t *id, srv_reply *r)
{
    const char *title;
    int code = gate_code(d->reason, &title);
    char message[MCPAUTH_MESSAGE_MAX + 32];
    r->status = d->http_status ? d->http_status : mcpauth_reason_http_status(d->reason);
    r->reason = mcpauth_reason_name(d->reason);
    gate_www_authenticate(d->reason, r->www_authenticate, sizeof r->www_authenticate);
    if (d->reason == MCPAUTH_REASON_RATE_LIMITED || d->reason == MCPAUTH_REASON_LOCKED_OUT)
        r->retry_after = d->retry_after ? d->retry_after : 1;
    if (d->message[0])
        snprintf(message, sizeof message, "%s: %s", title, d->message);
    else
        snprintf(message, sizeof message, "%s", title);
    json_t *data = json_pack("{s:s}", "reason", mcpauth_reason_name(d->reason));
    if (data && r->retry_after)
        json_object_set_new(data, "retry_after", json_integer(r->retry_after));
    r->body = rpc_error(id, code, message, data);
}
