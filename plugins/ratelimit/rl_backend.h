/*
 * rl_backend.h: where the limiter keeps its state.
 *
 * The plugin logic (ratelimit.c) decides which key and which rate apply to a
 * request; a backend only answers "may this key take one more request" and
 * keeps failure counts and lockouts. The in-memory backend (rl_memory.c) is
 * the only one today; a shared one (Redis) implements the same table of
 * functions and the plugin does not change.
 *
 * Every function may be called from many threads at once.
 */
#ifndef MCPAUTH_RL_BACKEND_H
#define MCPAUTH_RL_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "mcpauth/common.h"
#include "rl_gcra.h"
#include "rl_key.h"

/* The lockout rule a backend enforces. */
typedef struct rl_lockout_rule {
    uint32_t max_failures; /* failures that lock an address out; 0: never */
    int64_t window_ms;     /* counted from the first failure */
    int64_t lockout_ms;    /* how long a lockout lasts */
} rl_lockout_rule;

/* What take answers. */
typedef struct rl_take_result {
    int allowed;
    int64_t wait_ms; /* when !allowed: until the request would be allowed */
} rl_take_result;

typedef struct rl_backend {
    void *self;
    /* One request for `key` at `rate`. Unless `dry`, an allowed request is
     * consumed. A dry call creates no state. */
    mcpauth_status (*take)(void *self, const rl_key *key, const rl_rate *rate,
                           int64_t now_ms, int dry, rl_take_result *out);
    /* Count a failed attempt for address key `ip`. *locked is set to 1 when
     * this failure started a lockout. */
    mcpauth_status (*record_failure)(void *self, const rl_key *ip,
                                     int64_t now_ms, int *locked);
    /* *until_ms is the end of the lockout of `ip`, or 0 when it is not
     * locked out at now_ms. Creates no state. */
    mcpauth_status (*locked_until)(void *self, const rl_key *ip,
                                   int64_t now_ms, int64_t *until_ms);
    /* The lockout check and then take for the same address key `ip`, under
     * one lookup: the request path needs both for every request limited by
     * address, and each alone costs a hash, a shard lock and a probe.
     * Same result as locked_until(ip), then, when *until_ms is 0 and `rate`
     * is not NULL, take(ip, rate); out->allowed is 1 when take did not run.
     * A dry call creates no state. */
    mcpauth_status (*locked_take)(void *self, const rl_key *ip,
                                  const rl_rate *rate, int64_t now_ms, int dry,
                                  int64_t *until_ms, rl_take_result *out);
    /* How many keys the backend tracks now (for tests and stats). */
    size_t (*tracked)(void *self);
    void (*destroy)(void *self);
} rl_backend;

/* The in-memory backend: at most max_tracked keys, sharded locks. */
mcpauth_status rl_memory_backend_new(rl_backend *out, size_t max_tracked,
                                     const rl_lockout_rule *rule);

/* Bytes the in-memory backend spends per tracked key once full (entry plus
 * its share of the hash table), for the documentation and the tests. */
size_t rl_memory_bytes_per_key(size_t max_tracked);

#endif
