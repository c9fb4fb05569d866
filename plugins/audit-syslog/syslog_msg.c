/* syslog_msg.c: see syslog_msg.h. */
#include "syslog_msg.h"

#include <string.h>

#define AS_VALUE_MAX 512  /* bytes of one SD-PARAM value before we cut it */

void as_token(const char *in, char *out, size_t max)
{
    size_t n = 0;
    for (; in && *in && n < max; in++)
        if (*in > 32 && *in < 127)
            out[n++] = *in;
    if (n == 0)
        out[n++] = '-';
    out[n] = '\0';
}

/* A PARAM-VALUE: '"', '\' and ']' escaped as RFC 5424 demands; control
 * characters and invalid UTF-8 become U+FFFD so that nothing can end the
 * message, the element or the value early. */
static void as_put_value(mcpauth__abuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), out = 0;
    while (n && out < AS_VALUE_MAX) {
        size_t k = mcpauth__utf8_seq(p, n);
        if (k == 1 && (p[0] == '"' || p[0] == '\\' || p[0] == ']')) {
            mcpauth__abuf_put(b, "\\", 1);
            mcpauth__abuf_put(b, p, 1);
        } else if (k == 0 || (k == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
            mcpauth__abuf_put(b, "\xef\xbf\xbd", 3);
            k = 1;
        } else {
            mcpauth__abuf_put(b, p, k);
        }
        out += k;
        p += k;
        n -= k;
    }
}

static void as_param(mcpauth__abuf *b, const char *name, const char *value)
{
    if (!value)
        return;
    mcpauth__abuf_put(b, " ", 1);
    mcpauth__abuf_puts(b, name);
    mcpauth__abuf_put(b, "=\"", 2);
    as_put_value(b, value);
    mcpauth__abuf_put(b, "\"", 1);
}

static void as_param_u64(mcpauth__abuf *b, const char *name, uint64_t v)
{
    mcpauth__abuf_put(b, " ", 1);
    mcpauth__abuf_puts(b, name);
    mcpauth__abuf_put(b, "=\"", 2);
    mcpauth__abuf_u64(b, v);
    mcpauth__abuf_put(b, "\"", 1);
}

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID" */
static void as_header_put(mcpauth__abuf *b, const as_header *h, int severity,
                          int64_t time_ms, const char *msgid)
{
    char t[32], id[33];
    size_t n = mcpauth_format_time_ms(time_ms, t, sizeof(t));
    as_token(msgid, id, 32);
    mcpauth__abuf_put(b, "<", 1);
    mcpauth__abuf_u64(b, (uint64_t)(h->facility * 8 + severity));
    mcpauth__abuf_put(b, ">1 ", 3);
    mcpauth__abuf_put(b, t, n < sizeof(t) ? n : 0);
    mcpauth__abuf_put(b, " ", 1);
    mcpauth__abuf_puts(b, h->hostname);
    mcpauth__abuf_put(b, " ", 1);
    mcpauth__abuf_puts(b, h->app_name);
    mcpauth__abuf_put(b, " ", 1);
    mcpauth__abuf_u64(b, (uint64_t)h->procid);
    mcpauth__abuf_put(b, " ", 1);
    mcpauth__abuf_puts(b, id);
    mcpauth__abuf_puts(b, " [" AS_SD_ID);
}

void as_format_decision(mcpauth__abuf *b, const as_header *h,
                        const mcpauth_request *req, const mcpauth_outcome *o)
{
    static const mcpauth_request none = MCPAUTH_REQUEST_INIT;
    const mcpauth_principal *p = o->principal;
    const char *reason = mcpauth_reason_name(o->reason);
    if (!reason)
        reason = "unknown";
    if (!req)
        req = &none;
    as_header_put(b, h, o->allowed ? AS_SEV_INFO : AS_SEV_WARNING, o->now_ms,
                  "decision");
    as_param(b, "allowed", o->allowed ? "true" : "false");
    as_param(b, "reason", reason);
    as_param_u64(b, "http_status", o->http_status > 0 ? (uint64_t)o->http_status : 0);
    as_param(b, "plugin", o->plugin);
    as_param(b, "key_id", p ? p->key_id : NULL);
    as_param(b, "key_name", p ? p->key_name : NULL);
    as_param(b, "role", p ? p->role : NULL);
    as_param(b, "client_ip", req->client_ip);
    as_param(b, "method", req->method);
    as_param(b, "tool", req->tool);
    as_param(b, "resource", req->resource);
    as_param(b, "transport", req->transport);
    as_param_u64(b, "bytes", req->bytes);
    as_param_u64(b, "latency_ns", o->latency_ns);
    as_param(b, "detail", o->detail);
    mcpauth__abuf_puts(b, o->allowed ? "] allow " : "] deny ");
    mcpauth__abuf_puts(b, reason);
}

void as_format_event(mcpauth__abuf *b, const as_header *h, int severity,
                     const char *type, int64_t time_ms, const char *key_id,
                     const char *key_name, const char *role,
                     const char *detail)
{
    char t[33];
    as_token(type, t, 32);
    as_header_put(b, h, severity, time_ms, t);
    as_param(b, "key_id", key_id);
    as_param(b, "key_name", key_name);
    as_param(b, "role", role);
    as_param(b, "detail", detail);
    mcpauth__abuf_puts(b, "] ");
    mcpauth__abuf_puts(b, t);
}
