/* badabi.c: a plugin built for a future ABI, which the core must refuse
 * before touching anything but the first two fields. */
#include "mcpauth/plugin.h"

static const mcpauth_plugin badabi_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION + 41, sizeof(mcpauth_plugin), "badabi", "wrong ABI",
    0, 0, 0, 0, 0, 0,
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(badabi_plugin)
