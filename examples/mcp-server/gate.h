/* gate.h: where the server meets mcpauth. It turns an HTTP request into an
 * mcpauth_request, and a denial into the HTTP answer that MCP's
 * authorization page and RFC 6750 expect. */
#ifndef SRV_GATE_H
#define SRV_GATE_H

#include "server.h"

/* The presented key: `Authorization: Bearer KEY`, else `X-API-Key: KEY`,
 * else NULL. Borrowed from the headers. */
const char *gate_credential(const srv_http *h);

/* Fill *req for one request: credential, peer, X-Forwarded-For (only when
 * the peer is a --trusted-proxy), method, tool, resource, transport "http"
 * and the body size. Strings are borrowed from h and the arguments. */
void gate_request(const srv *s, const srv_http *h, const char *method,
                  const char *tool, const char *resource, mcpauth_request *req);

/* Answer a denial: the status from the decision, WWW-Authenticate for the
 * four authentication reasons, Retry-After for the two rate reasons, and a
 * JSON-RPC error body whose data.reason names the reason. `id` is the
 * request's id, borrowed (NULL: null). */
void gate_deny(const mcpauth_decision *d, json_t *id, srv_reply *r);

#endif
