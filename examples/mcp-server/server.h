/*
 * server.h: what every part of mcp-demo-server shares: the server's state
 * and the reply a request handler builds.
 *
 * The server is an example of embedding libmcpauth: one mcpauth handle,
 * opened at start, checked on every request from many threads, reloaded on
 * SIGHUP and closed (flushing the audit log) on SIGTERM.
 */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mcpauth/mcpauth.h"

#include "home.h"
#include "netaddr.h"
#include "session.h"

#define SRV_NAME "mcp-demo-server"
/* The protocol revision this server speaks first, and the older one it
 * still accepts in MCP-Protocol-Version. */
#define SRV_PROTOCOL_LATEST "2025-06-18"
#define SRV_PROTOCOL_PREVIOUS "2025-03-26"
/* The server never buffers more than this, whatever the policy allows. */
#define SRV_BODY_HARD_CAP (4u * 1024u * 1024u)

typedef struct srv {
    mcpauth *auth;
    srv_sessions *sessions;
    home *home;
    const srv_cidr *trusted;  /* --trusted-proxy list */
    size_t ntrusted;
    int quiet;                /* no access log */
} srv;

/* One HTTP request, with the headers the server reads. Borrowed strings,
 * valid while the request is handled. */
typedef struct srv_http {
    const char *verb;
    const char *path;
    const char *peer;            /* the TCP peer's address, as text */
    const char *client;          /* the client: the peer, or from a trusted
                                    proxy the address it forwards for */
    const char *origin;
    const char *protocol_version;
    const char *session_id;
    const char *authorization;
    const char *api_key;         /* X-API-Key */
    const char *forwarded_for;
    const char *content_type;
    const char *accept;
    const char *body;
    size_t body_len;             /* bytes buffered */
    uint64_t bytes;              /* bytes received (or announced) */
    int too_big;                 /* over SRV_BODY_HARD_CAP: body discarded */
} srv_http;

/* What to answer. body (owned) is NULL for an empty answer. */
typedef struct srv_reply {
    int status;
    json_t *body;
    char session_id[SRV_SESSION_ID_LEN + 1];  /* Mcp-Session-Id, or "" */
    char www_authenticate[160];               /* or "" */
    uint32_t retry_after;                     /* Retry-After when > 0 */
    const char *allow;                        /* Allow, for 405 */
    /* For the access log: what was asked and why it was answered so. */
    char rpc_method[64];
    char tool[64];
    const char *reason;
    char key_id[MCPAUTH_KEY_ID_MAX];
} srv_reply;

/* Handle one HTTP request (handler.c). Never fails: anything unexpected
 * becomes a 500 reply. */
void srv_handle(srv *s, const srv_http *h, srv_reply *r);

/* Release what a reply owns. */
void srv_reply_clear(srv_reply *r);

#endif
