/* rl_gcra.c: see rl_gcra.h. */
#include "rl_gcra.h"

#define RL_UNITS_PER_MINUTE 60000 /* ms in a minute = T in rate units */

/* Ceiling division for a positive divisor, any sign of n. */
static int64_t rl_ceil_div(int64_t n, int64_t d)
{
    int64_t q = n / d;
    return (n % d != 0 && n > 0) ? q + 1 : q;
}

/* now_ms in rate units, or -1 when it would overflow. A margin of 2^40
 * units (far above burst * T <= 6e10) keeps TAT +- tolerance inside int64;
 * at the largest rate that still reaches the year 2262. */
static int rl_units(int64_t now_ms, uint32_t rpm, int64_t *out)
{
    const int64_t lim = (INT64_MAX - (INT64_C(1) << 40)) / (int64_t)rpm;
    if (now_ms > lim || now_ms < -lim)
        return -1;
    *out = now_ms * (int64_t)rpm;
    return 0;
}

/* The stored TAT re-expressed at a new rate. Rounded up to the next
 * millisecond: a rate change can cost a client at most 1 ms, never gain. */
static int rl_rescale(const rl_gcra_state *st, uint32_t rpm, int64_t *tat)
{
    if (st->tat == RL_TAT_NONE) {
        *tat = RL_TAT_NONE;
        return 0;
    }
    if (st->rpm == rpm) {
        *tat = st->tat;
        return 0;
    }
    return rl_units(rl_ceil_div(st->tat, st->rpm), rpm, tat);
}

int rl_gcra_take(rl_gcra_state *st, const rl_rate *rate, int64_t now_ms,
                 int dry, int64_t *wait_ms)
{
    int64_t now, tat;
    if (rl_units(now_ms, rate->rpm, &now) < 0 ||
        rl_rescale(st, rate->rpm, &tat) < 0)
        return -1;
    if (tat < now)
        tat = now;
    const int64_t tolerance = (int64_t)(rate->burst - 1) * RL_UNITS_PER_MINUTE;
    const int64_t allow_at = tat - tolerance;
    if (now < allow_at) {
        *wait_ms = rl_ceil_div(allow_at - now, rate->rpm);
        return 0;
    }
    if (!dry) {
        st->tat = tat + RL_UNITS_PER_MINUTE;
        st->rpm = rate->rpm;
    }
    return 1;
}

int rl_gcra_idle(const rl_gcra_state *st, int64_t now_ms)
{
    if (st->tat == RL_TAT_NONE)
        return 1;
    /* tat <= now_ms * rpm, without the product. */
    return rl_ceil_div(st->tat, st->rpm) <= now_ms;
}

uint32_t rl_retry_seconds(int64_t wait_ms)
{
    int64_t s = rl_ceil_div(wait_ms, 1000);
    if (s < 1)
        s = 1;
    if (s > UINT32_MAX)
        s = UINT32_MAX;
    return (uint32_t)s;
}

int64_t rl_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int64_t rl_sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}
