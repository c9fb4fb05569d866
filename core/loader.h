/* loader.h: find a plugin's shared object, check its permissions and ABI,
 * and hand back its descriptor. */
#ifndef MCPAUTH_LOADER_H
#define MCPAUTH_LOADER_H

#include "policy.h"

typedef struct mcpauth_loaded {
    void *dl;
    const mcpauth_plugin *desc;
    char *path;
} mcpauth_loaded;

/* Load the plugin entry `e` names. Errors carry the entry's file:line:col. */
mcpauth_status mcpauth__plugin_load(const mcpauth_policy_spec *p,
                                    const mcpauth_entry_spec *e,
                                    mcpauth_loaded *out, mcpauth_error *err);
void mcpauth__plugin_unload(mcpauth_loaded *l);

#endif
