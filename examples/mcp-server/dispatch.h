/* dispatch.h: the MCP methods this server answers. */
#ifndef SRV_DISPATCH_H
#define SRV_DISPATCH_H

#include "rpc.h"
#include "server.h"

/*
 * Answer the JSON-RPC request m (kind RPC_REQUEST) with a response body:
 * a result, or an error (-32601 for an unknown method, -32602 for bad
 * params, -32002 for an unknown resource). `who` is the request as it was
 * checked: tools/list asks mcpauth_permits with it, tool by tool, so that
 * each caller sees only the tools it may call.
 */
json_t *dispatch_request(srv *s, const rpc_msg *m, const mcpauth_request *who);

/* The protocol version to answer an initialize with. */
const char *dispatch_negotiate(const rpc_msg *m);

#endif
