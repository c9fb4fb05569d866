/*
 * rl_gcra.h: the Generic Cell Rate Algorithm with exact integer arithmetic.
 *
 * Time is counted in "rate units": milliseconds multiplied by the rate in
 * requests per minute. In those units the emission interval T (60000/rpm ms)
 * is exactly 60000 and the tolerance (burst-1)*T exactly (burst-1)*60000,
 * whatever the rate, so a rate that does not divide a minute (7 a minute,
 * 8571.43 ms apart) loses nothing to rounding.
 *
 * A backend stores, per key, the theoretical arrival time (TAT) in those
 * units and the rate they are counted in; these functions do the rest.
 */
#ifndef MCPAUTH_RL_GCRA_H
#define MCPAUTH_RL_GCRA_H

#include <stdint.h>

/* Upper bounds that keep every product inside int64 until year 2262. */
#define RL_RPM_MAX 1000000
#define RL_BURST_MAX 1000000

/* TAT value meaning "no state": the key behaves as if idle. */
#define RL_TAT_NONE INT64_MIN

typedef struct rl_rate {
    uint32_t rpm;   /* requests per minute, 1..RL_RPM_MAX */
    uint32_t burst; /* requests at one instant from idle, 1..RL_BURST_MAX */
} rl_rate;

/* The state a backend keeps for one key. */
typedef struct rl_gcra_state {
    int64_t tat;  /* in units of the rate `rpm`, or RL_TAT_NONE */
    uint32_t rpm; /* the rate tat is counted in; 0 with RL_TAT_NONE */
} rl_gcra_state;

/*
 * Decide one request at now_ms. Returns 1 (allowed) and, unless `dry`,
 * advances *st; or 0 (limited) with *wait_ms set to how long until the same
 * request would be allowed (> 0), leaving *st alone. Returns -1 when now_ms
 * is outside the representable range (the caller fails closed).
 */
int rl_gcra_take(rl_gcra_state *st, const rl_rate *rate, int64_t now_ms,
                 int dry, int64_t *wait_ms);

/* Non-zero when the state at now_ms is the same as no state at all. */
int rl_gcra_idle(const rl_gcra_state *st, int64_t now_ms);

/* a + b and a - b, saturated at the int64 limits: times are injected and
 * a nonsense time must not become undefined behaviour. */
int64_t rl_sat_add(int64_t a, int64_t b);
int64_t rl_sat_sub(int64_t a, int64_t b);

/* Milliseconds to seconds, rounded up, at least 1 (Retry-After). */
uint32_t rl_retry_seconds(int64_t wait_ms);

#endif
