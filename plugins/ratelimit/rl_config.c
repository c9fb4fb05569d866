/* rl_config.c: see rl_config.h. */
#include "rl_config.h"

#include <stdlib.h>
#include <string.h>

/* An integer setting in [min, max]. *present tells whether it was given;
 * returns MCPAUTH_EPOLICY after reporting a bad one. */
static mcpauth_status rl_read_int(const mcpauth_services *svc,
                                  const mcpauth_config *c, const char *key,
                                  int64_t min, int64_t max, int64_t *out,
                                  int *present)
{
    int64_t v;
    mcpauth_status st = svc->config_int(c, key, &v);
    *present = 0;
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY; /* the core has reported it */
    if (v < min || v > max) {
        svc->config_error(c, key, "must be an integer from %lld to %lld",
                          (long long)min, (long long)max);
        return MCPAUTH_EPOLICY;
    }
    *out = v;
    *present = 1;
    return MCPAUTH_OK;
}

/* A duration setting, positive and at most ten years. */
static mcpauth_status rl_read_duration(const mcpauth_services *svc,
                                       const mcpauth_config *c,
                                       const char *key, int64_t *out)
{
    int64_t v;
    mcpauth_status st = svc->config_duration_ms(c, key, &v);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (v <= 0 || v > RL_DURATION_MAX_MS) {
        svc->config_error(c, key,
                          "must be a duration from 1ms to 3650d (e.g. 15m)");
        return MCPAUTH_EPOLICY;
    }
    *out = v;
    return MCPAUTH_OK;
}

/* requests_per_minute and burst of map `c`; burst defaults to the rate. */
static mcpauth_status rl_read_rate(const mcpauth_services *svc,
                                   const mcpauth_config *c, rl_rate *out,
                                   int *present)
{
    int64_t rpm = 0, burst = 0;
    int has_burst;
    if (rl_read_int(svc, c, "requests_per_minute", 1, RL_RPM_MAX, &rpm,
                    present) != MCPAUTH_OK ||
        rl_read_int(svc, c, "burst", 1, RL_BURST_MAX, &burst, &has_burst) !=
            MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (has_burst && !*present) {
        svc->config_error(c, "burst", "needs requests_per_minute");
        return MCPAUTH_EPOLICY;
    }
    out->rpm = (uint32_t)rpm;
    out->burst = (uint32_t)(has_burst ? burst : rpm);
    return MCPAUTH_OK;
}

static mcpauth_status rl_read_by(const mcpauth_services *svc,
                                 const mcpauth_config *c, rl_by *out,
                                 int *present)
{
    const char *s;
    mcpauth_status st = svc->config_string(c, "by", &s);
    *present = st == MCPAUTH_OK;
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (!strcmp(s, "auto"))
        *out = RL_BY_AUTO;
    else if (!strcmp(s, "principal"))
        *out = RL_BY_PRINCIPAL;
    else if (!strcmp(s, "ip"))
        *out = RL_BY_IP;
    else {
        svc->config_error(c, "by", "must be principal, ip or auto, not '%s'", s);
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

/* One per_role entry: "role: 600" or "role: { requests_per_minute: 600,
 * burst: 20 }". */
static mcpauth_status rl_read_role(const mcpauth_services *svc,
                                   const mcpauth_config *map, size_t i,
                                   rl_role_rate *out)
{
    const char *role = NULL;
    const mcpauth_config *v = svc->config_entry(map, i, &role);
    int present = 0;
    int64_t rpm = 0;
    if (!v || !role)
        return MCPAUTH_EPOLICY;
    if (svc->config_kind(v) == MCPAUTH_CONFIG_MAP) {
        if (rl_read_rate(svc, v, &out->rate, &present) != MCPAUTH_OK)
            return MCPAUTH_EPOLICY;
    } else {
        if (rl_read_int(svc, map, role, 1, RL_RPM_MAX, &rpm, &present) !=
            MCPAUTH_OK)
            return MCPAUTH_EPOLICY;
        out->rate = (rl_rate){ (uint32_t)rpm, (uint32_t)rpm };
    }
    if (!present) {
        svc->config_error(map, role, "needs requests_per_minute");
        return MCPAUTH_EPOLICY;
    }
    out->role = strdup(role);
    return out->role ? MCPAUTH_OK : MCPAUTH_ENOMEM;
}

static mcpauth_status rl_read_roles(const mcpauth_services *svc,
                                    const mcpauth_config *c, rl_config *out)
{
    const mcpauth_config *map;
    mcpauth_status st = svc->config_node(c, "per_role", &map);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if (svc->config_kind(map) != MCPAUTH_CONFIG_MAP) {
        svc->config_error(c, "per_role",
                          "must be a map of role to requests_per_minute");
        return MCPAUTH_EPOLICY;
    }
    size_t n = svc->config_count(map);
    out->roles = calloc(n ? n : 1, sizeof(*out->roles));
    if (!out->roles)
        return MCPAUTH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if ((st = rl_read_role(svc, map, i, &out->roles[i])) != MCPAUTH_OK)
            return st;
        out->nroles++;
    }
    return MCPAUTH_OK;
}

static mcpauth_status rl_read_lockout(const mcpauth_services *svc,
                                      const mcpauth_config *c,
                                      rl_lockout_rule *out)
{
    int64_t max = RL_DEFAULT_MAX_FAILURES;
    int present;
    /* 0 turns lockout off: the second entry of the documented two-entry
     * stack only limits rates. */
    if (rl_read_int(svc, c, "max_failed_attempts", 0, 1000000, &max,
                    &present) != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    out->max_failures = (uint32_t)max;
    out->window_ms = RL_DEFAULT_WINDOW_MS;
    out->lockout_ms = RL_DEFAULT_LOCKOUT_MS;
    if (rl_read_duration(svc, c, "failure_window", &out->window_ms) !=
            MCPAUTH_OK ||
        rl_read_duration(svc, c, "lockout", &out->lockout_ms) != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    return MCPAUTH_OK;
}

/* Settings that cannot do anything are a mistake worth a load error. */
static mcpauth_status rl_check_useful(const mcpauth_services *svc,
                                      const mcpauth_config *c,
                                      const rl_config *cfg, int has_by)
{
    int limits_rates = cfg->has_rate || cfg->nroles > 0;
    if (has_by && !limits_rates) {
        svc->config_error(c, "by", "has no effect without requests_per_minute "
                                   "or per_role");
        return MCPAUTH_EPOLICY;
    }
    if (!limits_rates && cfg->lockout.max_failures == 0) {
        svc->config_error(c, NULL, "limits nothing: set requests_per_minute, "
                                   "per_role or max_failed_attempts");
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

mcpauth_status rl_config_read(rl_config *out, const mcpauth_services *svc,
                              const mcpauth_config *c)
{
    mcpauth_status st;
    int present, has_by = 0;
    int64_t max_tracked = RL_DEFAULT_MAX_TRACKED;
    memset(out, 0, sizeof(*out));
    if ((st = rl_read_rate(svc, c, &out->rate, &out->has_rate)) != MCPAUTH_OK ||
        (st = rl_read_by(svc, c, &out->by, &has_by)) != MCPAUTH_OK ||
        (st = rl_read_roles(svc, c, out)) != MCPAUTH_OK ||
        (st = rl_read_lockout(svc, c, &out->lockout)) != MCPAUTH_OK ||
        (st = rl_read_int(svc, c, "max_tracked", 1, RL_MAX_TRACKED_MAX,
                          &max_tracked, &present)) != MCPAUTH_OK ||
        (st = rl_check_useful(svc, c, out, has_by)) != MCPAUTH_OK)
        goto out;
    out->max_tracked = (size_t)max_tracked;
out:
    if (st != MCPAUTH_OK)
        rl_config_free(out);
    return st;
}

void rl_config_free(rl_config *c)
{
    for (size_t i = 0; i < c->nroles; i++)
        free(c->roles[i].role);
    free(c->roles);
    c->roles = NULL;
    c->nroles = 0;
}

const rl_rate *rl_config_rate_for(const rl_config *c, const char *role)
{
    for (size_t i = 0; role && i < c->nroles; i++)
        if (!strcmp(c->roles[i].role, role))
            return &c->roles[i].rate;
    return c->has_rate ? &c->rate : NULL;
}
