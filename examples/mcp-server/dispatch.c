/* dispatch.c: initialize, ping, tools/list, tools/call, resources/list,
 * resources/templates/list and resources/read. */
#include "dispatch.h"

#include <string.h>

#include "resources.h"
#include "tools.h"

const char *dispatch_negotiate(const rpc_msg *m)
{
    const char *v = json_string_value(json_object_get(m->params, "protocolVersion"));
    if (v && strcmp(v, SRV_PROTOCOL_PREVIOUS) == 0)
        return SRV_PROTOCOL_PREVIOUS;
    /* Anything else gets our latest; the client disconnects if it cannot
     * speak it (lifecycle, "Version Negotiation"). */
    return SRV_PROTOCOL_LATEST;
}

static json_t *dispatch_initialize(const rpc_msg *m)
{
    if (!json_is_string(json_object_get(m->params, "protocolVersion")))
        return rpc_error(m->id, RPC_INVALID_PARAMS, "initialize needs params.protocolVersion", NULL);
    json_t *result = json_pack(
        "{s:s,s:{s:{},s:{}},s:{s:s,s:s,s:s},s:s}", "protocolVersion", dispatch_negotiate(m),
        "capabilities", "tools", "resources", "serverInfo", "name", SRV_NAME, "title",
        "mcpauth demo: a home automation server", "version", mcpauth_version(),
        "instructions",
        "Control the lights and blinds of a small home and read its sensors. "
        "Each key sees only the tools its role allows.");
    return rpc_result(m->id, result);
}

/* Ask the policy, without using any quota or writing any audit record,
 * whether the caller may call each tool. */
static json_t *dispatch_tools_list(srv *s, const rpc_msg *m, const mcpauth_request *who)
{
    json_t *tools = json_array();
    for (size_t i = 0; tools && i < tools_count(); i++) {
        mcpauth_request q = *who;
        int allowed = 0;
        q.method = "tools/call";
        q.tool = tools_name(i);
        q.resource = NULL;
        if (mcpauth_permits(s->auth, &q, &allowed) == MCPAUTH_OK && allowed)
            json_array_append_new(tools, tools_definition(i));
    }
    return rpc_result(m->id, json_pack("{s:o}", "tools", tools ? tools : json_array()));
}

static json_t *dispatch_tools_call(srv *s, const rpc_msg *m)
{
    const char *name = rpc_tool(m);
    json_t *result = NULL;
    char err[160];
    if (!name)
        return rpc_error(m->id, RPC_INVALID_PARAMS, "tools/call needs params.name", NULL);
    if (tools_call(s->home, name, json_object_get(m->params, "arguments"), &result, err,
                   sizeof err) != 0)
        return rpc_error(m->id, RPC_INVALID_PARAMS, err, NULL);
    return rpc_result(m->id, result);
}

static json_t *dispatch_resources_read(srv *s, const rpc_msg *m)
{
    const char *uri = rpc_resource(m);
    if (!uri)
        return rpc_error(m->id, RPC_INVALID_PARAMS, "resources/read needs params.uri", NULL);
    json_t *result = resources_read(s->home, uri);
    if (!result)
        return rpc_error(m->id, RPC_RESOURCE_NOT_FOUND, "Resource not found",
                         json_pack("{s:s}", "uri", uri));
    return rpc_result(m->id, result);
}

json_t *dispatch_request(srv *s, const rpc_msg *m, const mcpauth_request *who)
{
    const char *method = m->method;
    if (strcmp(method, "initialize") == 0)
        return dispatch_initialize(m);
    if (strcmp(method, "ping") == 0)
        return rpc_result(m->id, json_object());
    if (strcmp(method, "tools/list") == 0)
        return dispatch_tools_list(s, m, who);
    if (strcmp(method, "tools/call") == 0)
        return dispatch_tools_call(s, m);
    if (strcmp(method, "resources/list") == 0)
        return rpc_result(m->id, resources_list(s->home));
    if (strcmp(method, "resources/templates/list") == 0)
        return rpc_result(m->id, resources_templates());
    if (strcmp(method, "resources/read") == 0)
        return dispatch_resources_read(s, m);
    return rpc_error(m->id, RPC_METHOD_NOT_FOUND, "Method not found",
                     json_pack("{s:s}", "method", method));
}
