/* allow.c: benchallow, a plugin that allows every request and does nothing
 * else. Five of them make the bench's `framework` scenario, which measures
 * what the core itself costs per decision. Built into the bench's own
 * directory, never installed. */
#include <stdlib.h>

#include "mcpauth/plugin.h"

static int ba_instance; /* create must hand back a non-NULL state */

static mcpauth_status ba_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    (void)env, (void)config;
    *state = &ba_instance;
    return MCPAUTH_OK;
}

static mcpauth_status ba_vote(void *state, mcpauth_ctx *ctx,
                              const mcpauth_request *req, mcpauth_vote_result *out)
{
    (void)state, (void)ctx, (void)req;
    out->vote = MCPAUTH_VOTE_ALLOW;
    return MCPAUTH_OK;
}

static void ba_destroy(void *state)
{
    (void)state;
}

static const mcpauth_plugin ba_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "benchallow",
    "allows every request (benchmark only)",
    ba_create, ba_vote, NULL, NULL, ba_destroy,
    MCPAUTH_PLUGIN_NO_CLOCK, /* allows without looking at the time */
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(ba_plugin)
