/* tools.h: the MCP tools of the home: their definitions for tools/list and
 * their calls for tools/call, with argument checking against each tool's
 * input schema. */
#ifndef SRV_TOOLS_H
#define SRV_TOOLS_H

#include <jansson.h>
#include <stddef.h>

#include "home.h"

size_t tools_count(void);
/* Tool i's name (static), or NULL past the end. */
const char *tools_name(size_t i);
/* Tool i's definition as tools/list shows it (new reference). */
json_t *tools_definition(size_t i);

/*
 * Call tool `name` with `args` (a JSON object, or NULL for none). Returns 0
 * and a CallToolResult in *result (with isError set when the tool ran into
 * a problem of the home, such as an unknown room), or -1 when the tool is
 * unknown or the arguments do not fit its schema: err then holds the
 * message of a JSON-RPC -32602 error.
 */
int tools_call(home *h, const char *name, json_t *args, json_t **result,
               char *err, size_t cap);

#endif
