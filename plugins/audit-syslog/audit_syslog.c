/*
 * audit_syslog.c: the audit-syslog plugin. Sends denials (and allows with
 * log_allows: true) and events as RFC 5424 datagrams to the local syslog
 * socket or a UDP collector. It never calls openlog/syslog, which would
 * change the embedding application's own syslog settings: it has its own
 * socket. It never votes.
 */
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mcpauth/plugin.h"
#include "syslog_msg.h"

typedef struct as_state {
    const mcpauth_services *svc;
    void *core;
    int log_allows;
    int fd;
    struct sockaddr_storage addr;   /* where datagrams go */
    socklen_t addrlen;
    char dest[300];                 /* for messages */
    char hostname[256];
    char ident[49];
    as_header hdr;
    atomic_int failing;             /* a send failed and was reported */
} as_state;

static const struct { const char *name; int code; } as_facilities[] = {
    { "kern", 0 }, { "user", 1 }, { "mail", 2 }, { "daemon", 3 },
    { "auth", 4 }, { "syslog", 5 }, { "lpr", 6 }, { "news", 7 },
    { "uucp", 8 }, { "cron", 9 }, { "authpriv", 10 }, { "ftp", 11 },
    { "local0", 16 }, { "local1", 17 }, { "local2", 18 }, { "local3", 19 },
    { "local4", 20 }, { "local5", 21 }, { "local6", 22 }, { "local7", 23 },
};

static mcpauth_status as_facility(as_state *s, const mcpauth_config *c)
{
    const char *v;
    mcpauth_status st = s->svc->config_string(c, "facility", &v);
    s->hdr.facility = 10;
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    for (size_t i = 0; i < sizeof(as_facilities) / sizeof(as_facilities[0]); i++)
        if (!strcmp(v, as_facilities[i].name)) {
            s->hdr.facility = as_facilities[i].code;
            return MCPAUTH_OK;
        }
    s->svc->config_error(c, "facility", "unknown syslog facility '%s' (auth, "
                         "authpriv, daemon, user, local0..local7, ...)", v);
    return MCPAUTH_EPOLICY;
}

/* "host:port" or "[v6addr]:port" into a UDP destination. */
static mcpauth_status as_udp(as_state *s, const mcpauth_config *c,
                             const char *server)
{
    char host[256];
    const char *colon = strrchr(server, ':');
    const char *h = server;
    size_t hl = colon ? (size_t)(colon - server) : 0;
    if (hl >= 2 && server[0] == '[' && server[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!colon || hl == 0 || hl >= sizeof(host) || !colon[1]) {
        s->svc->config_error(c, "server", "'%s' is not host:port", server);
        return MCPAUTH_EPOLICY;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res || res->ai_addrlen > sizeof(s->addr)) {
        s->svc->config_error(c, "server", "cannot resolve '%s': %s", server,
                             rc ? gai_strerror(rc) : "no address");
        if (res)
            freeaddrinfo(res);
        return MCPAUTH_EPOLICY;
    }
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(s->dest, sizeof(s->dest), "udp:%s", server);
    return MCPAUTH_OK;
}

static mcpauth_status as_unix(as_state *s, const mcpauth_config *c,
                              const char *path)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
    if (!path[0] || strlen(path) >= sizeof(un->sun_path)) {
        s->svc->config_error(c, "socket", "not a usable socket path");
        return MCPAUTH_EPOLICY;
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, strlen(path) + 1);
    s->addrlen = (socklen_t)sizeof(*un);
    snprintf(s->dest, sizeof(s->dest), "%s", path);
    return MCPAUTH_OK;
}

/* Where to send: `socket` (default /dev/log) or `server`, not both. */
static mcpauth_status as_destination(as_state *s, const mcpauth_config *c)
{
    const char *sock = NULL, *server = NULL;
    char path[108];
    mcpauth_status a = s->svc->config_string(c, "socket", &sock);
    mcpauth_status b = s->svc->config_string(c, "server", &server);
    if ((a != MCPAUTH_OK && a != MCPAUTH_ENOTFOUND) ||
        (b != MCPAUTH_OK && b != MCPAUTH_ENOTFOUND))
        return MCPAUTH_EPOLICY;
    if (sock && server) {
        s->svc->config_error(c, "server", "give either 'socket' or 'server', "
                             "not both");
        return MCPAUTH_EPOLICY;
    }
    if (server)
        return as_udp(s, c, server);
    if (sock && s->svc->config_path(c, sock, path, sizeof(path)) != MCPAUTH_OK) {
        s->svc->config_error(c, "socket", "socket path is too long");
        return MCPAUTH_EPOLICY;
    }
    return as_unix(s, c, sock ? path : "/dev/log");
}

static mcpauth_status as_read_config(as_state *s, const mcpauth_config *c)
{
    const char *ident = "mcpauth";
    mcpauth_status st = s->svc->config_string(c, "ident", &ident);
    if (st != MCPAUTH_OK && st != MCPAUTH_ENOTFOUND)
        return MCPAUTH_EPOLICY;
    as_token(ident, s->ident, sizeof(s->ident) - 1);
    st = s->svc->config_bool(c, "log_allows", &s->log_allows);
    if (st != MCPAUTH_OK && st != MCPAUTH_ENOTFOUND)
        return MCPAUTH_EPOLICY;
    if (as_facility(s, c) != MCPAUTH_OK || as_destination(s, c) != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    return MCPAUTH_OK;
}

static mcpauth_status as_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    as_state *s = calloc(1, sizeof(*s));
    if (!s)
        return MCPAUTH_ENOMEM;
    s->svc = env->svc;
    s->core = env->core;
    s->fd = -1;
    mcpauth_status st = as_read_config(s, config);
    if (st == MCPAUTH_OK) {
        s->fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            st = MCPAUTH_EIO;
    }
    if (st != MCPAUTH_OK) {
        free(s);
        return st;
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    as_token(host, s->hostname, sizeof(s->hostname) - 1);
    s->hdr.hostname = s->hostname;
    s->hdr.app_name = s->ident;
    s->hdr.procid = (long)getpid();
    *state = s;
    return MCPAUTH_OK;
}

/* One datagram, never blocking a request: a full or absent receiver loses
 * the message, and the first failure (and the recovery) is logged once. */
static void as_send(as_state *s, const mcpauth__abuf *b)
{
    if (b->oom)
        return;
    ssize_t n = sendto(s->fd, b->p, b->len, MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&s->addr, s->addrlen);
    if (n < 0) {
        int e = errno;
        if (!atomic_exchange(&s->failing, 1))
            s->svc->log(s->core, MCPAUTH_LOG_ERROR,
                        "audit-syslog: cannot send to %s: %s (reported once; "
                        "records are lost until it works)", s->dest,
                        strerror(e));
    } else if (atomic_load_explicit(&s->failing, memory_order_relaxed) &&
               atomic_exchange(&s->failing, 0)) {
        s->svc->log(s->core, MCPAUTH_LOG_INFO,
                    "audit-syslog: sending to %s works again", s->dest);
    }
}

static mcpauth_status as_vote(void *state, mcpauth_ctx *ctx,
                              const mcpauth_request *req,
                              mcpauth_vote_result *out)
{
    (void)state;
    (void)ctx;
    (void)req;
    (void)out;
    return MCPAUTH_OK;
}

static void as_observe(void *state, mcpauth_ctx *ctx,
                       const mcpauth_request *req, const mcpauth_outcome *o)
{
    as_state *s = state;
    char stack[1024];
    mcpauth__abuf b;
    if (s->svc->dry_run(ctx) || (o->allowed && !s->log_allows))
        return;
    mcpauth__abuf_init(&b, stack, sizeof(stack));
    as_format_decision(&b, &s->hdr, req, o);
    as_send(s, &b);
    if (!o->allowed && o->reason == MCPAUTH_REASON_EXPIRED) {
        const mcpauth_principal *p = o->principal;
        b.len = 0;
        as_format_event(&b, &s->hdr, AS_SEV_WARNING, "key.expired", o->now_ms,
                        p ? p->key_id : NULL, p ? p->key_name : NULL,
                        p ? p->role : NULL, o->detail);
        as_send(s, &b);
    }
    mcpauth__abuf_free(&b);
}

static void as_event(void *state, const mcpauth_event *ev)
{
    as_state *s = state;
    char stack[512];
    mcpauth__abuf b;
    int sev = ev->type && !strcmp(ev->type, "policy.reload_failed")
                  ? AS_SEV_WARNING : AS_SEV_NOTICE;
    mcpauth__abuf_init(&b, stack, sizeof(stack));
    as_format_event(&b, &s->hdr, sev, ev->type,
                    ev->time_ms ? ev->time_ms : mcpauth_now_ms(), ev->key_id,
                    ev->key_name, ev->role, ev->detail);
    as_send(s, &b);
    mcpauth__abuf_free(&b);
}

static void as_destroy(void *state)
{
    as_state *s = state;
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

static const mcpauth_plugin as_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "audit-syslog",
    "RFC 5424 audit records to syslog or a UDP collector",
    as_create, as_vote, as_observe, as_event, as_destroy,
    0, /* flags: the record carries latency_ns, so observe is timed */
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(as_plugin)
