/* rpc.c: parsing and classifying JSON-RPC messages, building answers. */
#include "rpc.h"

#include <stdio.h>
#include <string.h>

static void rpc_invalid(rpc_msg *m, int code, const char *why)
{
    m->kind = RPC_INVALID;
    m->code = code;
    m->method = NULL;
    snprintf(m->error, sizeof m->error, "%s", why);
}

/* JSON-RPC ids are strings or numbers; MCP forbids null. */
static int rpc_id_ok(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id) || json_is_real(id);
}

/* Sets m->kind and what goes with it; returns nothing, since an unusable
 * message is itself a kind. */
static void rpc_classify(rpc_msg *m)
{
    json_t *o = m->root, *id = json_object_get(o, "id");
    json_t *method = json_object_get(o, "method");
    const char *version = json_string_value(json_object_get(o, "jsonrpc"));
    m->id = rpc_id_ok(id) ? id : NULL;
    m->params = json_object_get(o, "params");
    if (!version || strcmp(version, "2.0") != 0)
        rpc_invalid(m, RPC_INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"");
    else if (id && !m->id)
        rpc_invalid(m, RPC_INVALID_REQUEST, "Invalid Request: id must be a string or a number");
    else if (!method && m->id && (json_object_get(o, "result") || json_object_get(o, "error")))
        m->kind = RPC_RESPONSE;
    else if (!method)
        rpc_invalid(m, RPC_INVALID_REQUEST, "Invalid Request: no method");
    else if (!json_is_string(method) || json_string_length(method) == 0)
        rpc_invalid(m, RPC_INVALID_REQUEST, "Invalid Request: method must be a non-empty string");
    else if (m->params && !json_is_object(m->params))
        rpc_invalid(m, RPC_INVALID_REQUEST, "Invalid Request: params must be an object");
    else {
        m->method = json_string_value(method);
        m->kind = m->id ? RPC_REQUEST : RPC_NOTIFICATION;
    }
}

void rpc_parse(const char *body, size_t len, rpc_msg *m)
{
    json_error_t jerr;
    memset(m, 0, sizeof *m);
    m->root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!m->root)
        rpc_invalid(m, RPC_PARSE_ERROR, "Parse error: the body is not JSON");
    else if (json_is_array(m->root))
        rpc_invalid(m, RPC_INVALID_REQUEST,
                    "Invalid Request: batches are not supported (MCP 2025-06-18)");
    else if (!json_is_object(m->root))
        rpc_invalid(m, RPC_INVALID_REQUEST, "Invalid Request: not a JSON object");
    else
        rpc_classify(m);
}

void rpc_msg_free(rpc_msg *m)
{
    json_decref(m->root);
    memset(m, 0, sizeof *m);
}

static const char *rpc_param_string(const rpc_msg *m, const char *method, const char *key)
{
    if (!m->method || strcmp(m->method, method) != 0)
        return NULL;
    return json_string_value(json_object_get(m->params, key));
}

const char *rpc_tool(const rpc_msg *m) { return rpc_param_string(m, "tools/call", "name"); }

const char *rpc_resource(const rpc_msg *m)
{
    return rpc_param_string(m, "resources/read", "uri");
}

json_t *rpc_result(json_t *id, json_t *result)
{
    return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "result", result ? result : json_object());
}

json_t *rpc_error(json_t *id, int code, const char *message, json_t *data)
{
    json_t *err = json_pack("{s:i,s:s}", "code", code, "message", message);
    if (err && data)
        json_object_set_new(err, "data", data);
    else
        json_decref(data);
    return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "error", err ? err : json_object());
}
