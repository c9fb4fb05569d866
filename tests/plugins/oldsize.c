/* oldsize.c: a plugin as built against the first plugin ABI, whose
 * descriptor ends at `destroy`. The core must load it and must not read the
 * fields added since: the flags word below claims an untimed observe, and
 * the core, seeing a first-ABI size, must ignore it and time the check;
 * the prepare hook aborts if called.
 * Built a second time with OLDSIZE_BYTES one byte short of the first ABI's
 * size, as a descriptor the core must refuse. */
#include <stdlib.h>

#include "mcpauth/plugin.h"

#ifndef OLDSIZE_BYTES
#define OLDSIZE_BYTES MCPAUTH_PLUGIN_MIN_SIZE
#endif

static int os_state;

static mcpauth_status os_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    (void)env;
    (void)config;
    *state = &os_state;
    return MCPAUTH_OK;
}

static mcpauth_status os_vote(void *state, mcpauth_ctx *ctx, const mcpauth_request *req,
                              mcpauth_vote_result *out)
{
    (void)state;
    (void)ctx;
    (void)req;
    out->vote = MCPAUTH_VOTE_ALLOW;
    return MCPAUTH_OK;
}

static void os_observe(void *state, mcpauth_ctx *ctx, const mcpauth_request *req,
                       const mcpauth_outcome *o)
{
    (void)state;
    (void)ctx;
    (void)req;
    (void)o;
}

static void os_destroy(void *state) { (void)state; }

/* Past `size` too: a core that called it would have read beyond the
 * descriptor this plugin declares. */
static void os_prepare(void *state, const mcpauth_request *req)
{
    (void)state;
    (void)req;
    abort();
}

static const mcpauth_plugin os_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, (uint32_t)(OLDSIZE_BYTES), "oldsize",
    "a descriptor of the first ABI's size",
    os_create, os_vote, os_observe, NULL, os_destroy,
    MCPAUTH_PLUGIN_UNTIMED_OBSERVE, /* past `size`: the core must not read it */
    os_prepare, /* past `size`: must never be called */
};

MCPAUTH_PLUGIN_DEFINE(os_plugin)
