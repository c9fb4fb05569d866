/* rl_config.h: the ratelimit plugin's settings, read and validated once. */
#ifndef MCPAUTH_RL_CONFIG_H
#define MCPAUTH_RL_CONFIG_H

#include <stddef.h>

#include "mcpauth/plugin.h"
#include "rl_backend.h"

/* Which key a request's rate is counted under. */
typedef enum rl_by {
    RL_BY_AUTO = 0,  /* the principal once established, else the address */
    RL_BY_PRINCIPAL, /* the principal; requests without one are not counted */
    RL_BY_IP         /* request->client_ip */
} rl_by;

typedef struct rl_role_rate {
    char *role;
    rl_rate rate;
} rl_role_rate;

typedef struct rl_config {
    int has_rate;          /* requests_per_minute was given */
    rl_rate rate;
    rl_by by;
    rl_role_rate *roles;   /* per_role */
    size_t nroles;
    rl_lockout_rule lockout;
    size_t max_tracked;
} rl_config;

#define RL_DEFAULT_MAX_FAILURES 5
#define RL_DEFAULT_WINDOW_MS (15 * 60 * 1000)
#define RL_DEFAULT_LOCKOUT_MS (30 * 60 * 1000)
#define RL_DEFAULT_MAX_TRACKED 100000
#define RL_MAX_TRACKED_MAX (1 << 30)
#define RL_DURATION_MAX_MS ((int64_t)3650 * 24 * 3600 * 1000) /* ten years */

/* Read every key of the plugin's config. On a bad value, reports it through
 * svc->config_error and returns MCPAUTH_EPOLICY. */
mcpauth_status rl_config_read(rl_config *out, const mcpauth_services *svc,
                              const mcpauth_config *c);

void rl_config_free(rl_config *c);

/* The rate for a principal with `role` (NULL: none): its per_role entry,
 * else requests_per_minute; NULL when neither applies (not limited). */
const rl_rate *rl_config_rate_for(const rl_config *c, const char *role);

#endif
