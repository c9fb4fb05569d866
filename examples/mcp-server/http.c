/* http.c: libmicrohttpd callbacks: buffer the body (never more than
 * SRV_BODY_HARD_CAP), collect the headers, hand the request to srv_handle,
 * send its reply and log one line. */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One request's state between MHD's calls. */
typedef struct srv_upload {
    char *buf;
    size_t len, cap;
    uint64_t received;   /* bytes seen, or the Content-Length announced */
    int too_big;
} srv_upload;

static int srv_upload_append(srv_upload *u, const char *data, size_t n)
{
    u->received += n;
    if (u->too_big || u->len + n > SRV_BODY_HARD_CAP) {
        u->too_big = 1;   /* keep counting, stop storing */
        return 0;
    }
    if (u->len + n + 1 > u->cap) {
        size_t cap = u->cap ? u->cap : 4096;
        while (cap < u->len + n + 1)
            cap *= 2;
        char *p = realloc(u->buf, cap);
        if (!p)
            return -1;
        u->buf = p;
        u->cap = cap;
    }
    memcpy(u->buf + u->len, data, n);
    u->len += n;
    u->buf[u->len] = '\0';
    return 0;
}

static void srv_upload_free(srv_upload *u)
{
    if (!u)
        return;
    if (u->buf)
        sodium_memzero(u->buf, u->cap);
    free(u->buf);
    free(u);
}

static const char *srv_header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static void srv_read_request(struct MHD_Connection *c, const char *verb, const char *url,
                             const srv_upload *u, char *peer, srv_http *h)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    srv_addr_text(ci ? ci->client_addr : NULL, peer, SRV_ADDR_TEXT_MAX);
    memset(h, 0, sizeof *h);
    h->verb = verb;
    h->path = url;
    h->peer = peer;
    h->origin = srv_header(c, "Origin");
    h->protocol_version = srv_header(c, "MCP-Protocol-Version");
    h->session_id = srv_header(c, "Mcp-Session-Id");
    h->authorization = srv_header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    h->api_key = srv_header(c, "X-API-Key");
    h->forwarded_for = srv_header(c, "X-Forwarded-For");
    h->content_type = srv_header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    h->accept = srv_header(c, MHD_HTTP_HEADER_ACCEPT);
    h->body = u->buf;
    h->body_len = u->len;
    h->bytes = u->received;
    h->too_big = u->too_big;
}

static void srv_access_log(const srv *s, const srv_http *h, const srv_reply *r)
{
    if (s->quiet)
        return;
    fprintf(stderr, "%s: %s %s %s%s%s -> %d%s%s%s%s\n", SRV_NAME, h->peer, h->verb,
            r->rpc_method[0] ? r->rpc_method : "-", r->tool[0] ? " " : "", r->tool, r->status,
            r->reason && r->reason[0] ? " " : "", r->reason ? r->reason : "",
            r->key_id[0] ? " key=" : "", r->key_id);
}

static struct MHD_Response *srv_response(const srv_reply *r)
{
    char *text = r->body ? json_dumps(r->body, JSON_COMPACT) : NULL;
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        return NULL;
    }
    char num[16];
    if (text)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->session_id[0])
        MHD_add_response_header(resp, "Mcp-Session-Id", r->session_id);
    if (r->www_authenticate[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
    if (r->retry_after) {
        snprintf(num, sizeof num, "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    return resp;
}

/* Behind a trusted proxy the client is the one it forwards for: ratelimit
 * counts budgets and failed attempts by client_ip, and the audit log
 * records it, so passing the proxy's own address would make every client
 * share one budget and one lockout. A header that does not parse leaves
 * the peer (and forwarded_for, which ipwhitelist then refuses). */
static void srv_resolve_client(const srv *s, srv_http *h, char *client)
{
    h->client = h->peer;
    if (h->forwarded_for && srv_cidr_match(s->trusted, s->ntrusted, h->peer) &&
        srv_forwarded_client(s->trusted, s->ntrusted, h->forwarded_for, client,
                             SRV_ADDR_TEXT_MAX) == 0)
        h->client = client;
}

static enum MHD_Result srv_answer(srv *s, struct MHD_Connection *c, const char *verb,
                                  const char *url, const srv_upload *u)
{
    char peer[SRV_ADDR_TEXT_MAX], client[SRV_ADDR_TEXT_MAX];
    srv_http h;
    srv_reply r;
    srv_read_request(c, verb, url, u, peer, &h);
    srv_resolve_client(s, &h, client);
    srv_handle(s, &h, &r);
    srv_access_log(s, &h, &r);
    struct MHD_Response *resp = srv_response(&r);
    enum MHD_Result ret = resp ? MHD_queue_response(c, (unsigned)r.status, resp) : MHD_NO;
    if (resp)
        MHD_destroy_response(resp);
    srv_reply_clear(&r);
    return ret;
}

/* A Content-Length over the cap is answered before the body is read. */
static int srv_announced_too_big(struct MHD_Connection *c, srv_upload *u)
{
    const char *cl = srv_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    if (!cl)
        return 0;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno || end == cl || n <= SRV_BODY_HARD_CAP)
        return 0;
    u->received = n;
    u->too_big = 1;
    return 1;
}

static enum MHD_Result srv_access(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *verb, const char *version,
                                  const char *data, size_t *data_size, void **state)
{
    srv_upload *u = *state;
    (void)version;
    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u)
            return MHD_NO;
        *state = u;
        if (srv_announced_too_big(c, u))
            return srv_answer(cls, c, verb, url, u);
        return MHD_YES;
    }
    if (*data_size) {
        int rc = srv_upload_append(u, data, *data_size);
        *data_size = 0;
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    return srv_answer(cls, c, verb, url, u);
}

static void srv_completed(void *cls, struct MHD_Connection *c, void **state,
                          enum MHD_RequestTerminationCode why)
{
    (void)cls; (void)c; (void)why;
    srv_upload_free(*state);
    *state = NULL;
}

struct MHD_Daemon *srv_http_start(srv *s, const struct sockaddr *addr, char *err, size_t cap)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG;
    if (addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, srv_access, s, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_NOTIFY_COMPLETED, srv_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!d)
        snprintf(err, cap, "%s", errno ? strerror(errno) : "libmicrohttpd could not start");
    return d;
}

unsigned srv_http_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void srv_http_stop(struct MHD_Daemon *d)
{
    if (d)
        MHD_stop_daemon(d);
}
