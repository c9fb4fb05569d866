/* rl_testutil.h: helpers shared by the ratelimit suites. */
#ifndef MCPAUTH_RL_TESTUTIL_H
#define MCPAUTH_RL_TESTUTIL_H

#include <stdint.h>

#include "mcpauth/mcpauth.h"

/* A fixed instant the suites count from: 2026-11-27T12:00:00Z. */
#define RLT_T0 INT64_C(1795780800000)

/*
 * Open a policy written to a fresh directory. In `yaml`, "@FAKEAUTH@" is
 * replaced by the path of the fakeauth test plugin and "@SCRIPT@" by the
 * core's script test plugin. Returns NULL (and fills err) on failure; the
 * directory is removed by rlt_close.
 */
mcpauth *rlt_open(const char *yaml, mcpauth_error *err);
void rlt_close(mcpauth *a);

/* One check: credential (NULL: none), client ip, time. */
mcpauth_decision rlt_check(mcpauth *a, const char *cred, const char *ip,
                           int64_t now_ms);

/* Same as a dry run (mcpauth_check_ex with MCPAUTH_CHECK_DRY_RUN). */
mcpauth_decision rlt_dry(mcpauth *a, const char *cred, const char *ip,
                         int64_t now_ms);

#endif
