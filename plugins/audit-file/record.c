/* record.c: see record.h. Hand-formatted (no JSON library) because this
 * runs on every decision; audit_line.c's escaping keeps it safe. */
#include "record.h"

#include <stdint.h>
#include <string.h>

/* The date and time to the second change once a second, so each thread
 * keeps the last one formatted; only the milliseconds are written per
 * record. */
static _Thread_local int64_t af_cached_sec = INT64_MIN;
static _Thread_local char af_cached_text[32];

static void af_put_time(mcpauth__abuf *b, int64_t ms)
{
    char t[32];
    mcpauth__abuf_puts(b, "\"time\":\"");
    if (ms < 0) {
        size_t n = mcpauth_format_time_ms(ms, t, sizeof(t));
        mcpauth__abuf_put(b, t, n < sizeof(t) ? n : 0);
        mcpauth__abuf_put(b, "\"", 1);
        return;
    }
    int64_t sec = ms / 1000;
    unsigned frac = (unsigned)(ms % 1000);
    if (sec != af_cached_sec) {
        /* "YYYY-MM-DDTHH:MM:SS" is everything before ".mmmZ" */
        size_t n = mcpauth_format_time_ms(sec * 1000, af_cached_text,
                                          sizeof(af_cached_text));
        af_cached_text[n >= 5 && n < sizeof(af_cached_text) ? n - 5 : 0] = '\0';
        af_cached_sec = sec;
    }
    char tail[7] = { '.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
                     (char)('0' + frac % 10), 'Z', '"', '\0' };
    mcpauth__abuf_puts(b, af_cached_text);
    mcpauth__abuf_put(b, tail, 6);
}

static void af_put_number(mcpauth__abuf *b, const char *key, uint64_t v)
{
    mcpauth__abuf_put(b, ",\"", 2);
    mcpauth__abuf_puts(b, key);
    mcpauth__abuf_put(b, "\":", 2);
    mcpauth__abuf_u64(b, v);
}

void af_format_decision(mcpauth__abuf *b, const mcpauth_request *req,
                        const mcpauth_outcome *o)
{
    static const mcpauth_request none = MCPAUTH_REQUEST_INIT;
    const mcpauth_principal *p = o->principal;
    if (!req)
        req = &none;
    af_put_time(b, o->now_ms);
    mcpauth__abuf_puts(b, o->allowed ? ",\"event\":\"decision\",\"allowed\":true"
                                     : ",\"event\":\"decision\",\"allowed\":false");
    mcpauth__abuf_json_field(b, "reason", mcpauth_reason_name(o->reason));
    af_put_number(b, "http_status",
                  o->http_status > 0 ? (uint64_t)o->http_status : 0);
    mcpauth__abuf_json_field(b, "plugin", o->plugin);
    mcpauth__abuf_json_field(b, "key_id", p ? p->key_id : NULL);
    mcpauth__abuf_json_field(b, "key_name", p ? p->key_name : NULL);
    mcpauth__abuf_json_field(b, "role", p ? p->role : NULL);
    mcpauth__abuf_json_field(b, "client_ip", req->client_ip);
    mcpauth__abuf_json_field(b, "method", req->method);
    mcpauth__abuf_json_field(b, "tool", req->tool);
    mcpauth__abuf_json_field(b, "resource", req->resource);
    mcpauth__abuf_json_field(b, "transport", req->transport);
    af_put_number(b, "bytes", req->bytes);
    af_put_number(b, "latency_ns", o->latency_ns);
    mcpauth__abuf_json_field(b, "detail", o->detail);
}

void af_format_event(mcpauth__abuf *b, const char *type, int64_t time_ms,
                     const char *key_id, const char *key_name,
                     const char *role, const char *detail)
{
    /* "decision" is reserved for decision records, which readers expect
     * to carry the decision's fields. */
    if (!type)
        type = "unknown";
    else if (!strcmp(type, "decision"))
        type = "custom.decision";
    af_put_time(b, time_ms);
    mcpauth__abuf_json_field(b, "event", type);
    mcpauth__abuf_json_field(b, "key_id", key_id);
    mcpauth__abuf_json_field(b, "key_name", key_name);
    mcpauth__abuf_json_field(b, "role", role);
    mcpauth__abuf_json_field(b, "detail", detail);
}
