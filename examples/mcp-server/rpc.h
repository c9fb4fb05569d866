/* rpc.h: JSON-RPC 2.0 messages as MCP's 2025-06-18 revision allows them:
 * one message a POST (no batches). */
#ifndef SRV_RPC_H
#define SRV_RPC_H

#include <jansson.h>
#include <stddef.h>

#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603
#define RPC_RESOURCE_NOT_FOUND -32002 /* MCP's code for resources/read */

typedef enum rpc_kind {
    RPC_INVALID = 0,      /* code and error say why */
    RPC_REQUEST = 1,      /* method and id */
    RPC_NOTIFICATION = 2, /* method, no id */
    RPC_RESPONSE = 3      /* a client's answer (result or error) */
} rpc_kind;

typedef struct rpc_msg {
    json_t *root;        /* owned; NULL when the body is not JSON */
    rpc_kind kind;
    json_t *id;          /* borrowed; NULL when absent or unusable */
    const char *method;  /* borrowed; NULL unless REQUEST or NOTIFICATION */
    json_t *params;      /* borrowed; may be NULL */
    int code;            /* RPC_INVALID: -32700 or -32600 */
    char error[128];
} rpc_msg;

/* Parse and classify one message. Never fails: an unusable body becomes an
 * RPC_INVALID message. Free with rpc_msg_free. */
void rpc_parse(const char *body, size_t len, rpc_msg *m);
void rpc_msg_free(rpc_msg *m);

/* params.name of a tools/call, params.uri of a resources/read, or NULL. */
const char *rpc_tool(const rpc_msg *m);
const char *rpc_resource(const rpc_msg *m);

/* Response bodies. `id` is borrowed (NULL: JSON null); result and data are
 * stolen (data may be NULL). */
json_t *rpc_result(json_t *id, json_t *result);
json_t *rpc_error(json_t *id, int code, const char *message, json_t *data);

#endif
