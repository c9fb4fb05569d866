/*
 * test_ratelimit_backend.c: the GCRA arithmetic, the keys and the
 * in-memory backend on their own, including the bound on tracked keys,
 * which the public API does not show.
 */
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "rl_backend.h"
#include "testutil.h"

#define T0 INT64_C(1795780800000)

static const rl_lockout_rule RULE = { 3, 15 * 60000, 30 * 60000 };

/* ---- GCRA ---- */

static void test_gcra_example(void)
{
    rl_gcra_state st = { RL_TAT_NONE, 0 };
    rl_rate r = { 60, 5 };
    int64_t wait = 0;
    int allowed = 0;
    for (int i = 0; i < 8; i++) {
        int got = rl_gcra_take(&st, &r, T0, 0, &wait);
        allowed += got;
        if (!got) {
            CU_ASSERT_EQUAL(wait, 1000);
            CU_ASSERT_EQUAL(rl_retry_seconds(wait), 1);
        }
    }
    CU_ASSERT_EQUAL(allowed, 5);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, T0 + 1000, 0, &wait), 1);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, T0 + 1000, 0, &wait), 0);
    CU_ASSERT_FALSE(rl_gcra_idle(&st, T0 + 5999));
    CU_ASSERT_TRUE(rl_gcra_idle(&st, T0 + 6000));
}

/* A dry take never changes the state. */
static void test_gcra_dry(void)
{
    rl_gcra_state st = { RL_TAT_NONE, 0 };
    rl_rate r = { 60, 1 };
    int64_t wait;
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, T0, 1, &wait), 1);
    CU_ASSERT_EQUAL(st.tat, RL_TAT_NONE);
}

/* 7 a minute with a burst of 2, asked every millisecond for an hour:
 * after the burst, request k (from 0) passes at exactly ceil((k-1)*60000/7)
 * ms and not a millisecond before; no rounding error accumulates. */
static void test_gcra_exact_schedule(void)
{
    rl_gcra_state st = { RL_TAT_NONE, 0 };
    rl_rate r = { 7, 2 };
    int64_t wait;
    int64_t k = 2, t;
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, T0, 0, &wait), 1);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, T0, 0, &wait), 1);
    for (t = 0; t < 3600000; t++) {
        if (rl_gcra_take(&st, &r, T0 + t, 0, &wait) != 1)
            continue;
        int64_t ideal = ((k - 1) * 60000 + 6) / 7;
        CU_ASSERT_EQUAL_FATAL(t, ideal);
        k++;
    }
    /* burst + floor(3599999 ms / T) */
    CU_ASSERT_EQUAL(k, 2 + 419);
}

/* A rate change (a principal's role changed) keeps the debt, rounded
 * against the client by at most a millisecond. */
static void test_gcra_rate_change(void)
{
    rl_gcra_state st = { RL_TAT_NONE, 0 };
    rl_rate slow = { 6, 1 }, fast = { 60, 1 };
    int64_t wait;
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &slow, T0, 0, &wait), 1);
    /* TAT is T0 + 10 s; at the fast rate (burst 1) that still applies. */
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &fast, T0 + 5000, 0, &wait), 0);
    CU_ASSERT_EQUAL(wait, 5000);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &fast, T0 + 10000, 0, &wait), 1);
}

static void test_gcra_out_of_range(void)
{
    rl_gcra_state st = { RL_TAT_NONE, 0 };
    rl_rate r = { RL_RPM_MAX, 1 };
    int64_t wait;
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, INT64_MAX / 2, 0, &wait), -1);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, INT64_MIN, 0, &wait), -1);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, T0, 0, &wait), 1);
    /* The year 2262 still works at the largest rate. */
    const int64_t y2262 = INT64_C(9214646400000);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, y2262, 0, &wait), 1);
    CU_ASSERT_EQUAL(rl_gcra_take(&st, &r, y2262, 0, &wait), 0);
    CU_ASSERT_EQUAL(rl_sat_add(INT64_MAX - 1, 5), INT64_MAX);
    CU_ASSERT_EQUAL(rl_sat_sub(INT64_MIN + 1, 5), INT64_MIN);
    CU_ASSERT_EQUAL(rl_sat_sub(5, INT64_MIN), INT64_MAX);
}

static void test_retry_seconds(void)
{
    CU_ASSERT_EQUAL(rl_retry_seconds(1), 1);
    CU_ASSERT_EQUAL(rl_retry_seconds(1000), 1);
    CU_ASSERT_EQUAL(rl_retry_seconds(1001), 2);
    CU_ASSERT_EQUAL(rl_retry_seconds(0), 1);
}

/* ---- keys ---- */

static void test_keys(void)
{
    rl_key a, b;
    rl_key_from_ip(&a, "192.0.2.1");
    rl_key_from_ip(&b, "::ffff:192.0.2.1");
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    rl_key_from_ip(&b, "2001:db8::1");
    CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    rl_key_from_ip(&a, "2001:0db8:0000::0001");
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    /* A principal named like an address is not that address. */
    rl_key_from_principal(&b, "2001:db8::1");
    CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    /* Long texts are hashed, not truncated. */
    char l1[100], l2[100];
    memset(l1, 'x', 99);
    l1[99] = '\0';
    memcpy(l2, l1, 100);
    l2[98] = 'y';
    rl_key_from_principal(&a, l1);
    rl_key_from_principal(&b, l2);
    CU_ASSERT_EQUAL(a.kind, RL_KEY_HASHED);
    CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    char buf[64];
    rl_key_from_ip(&a, "bad\naddr");
    rl_key_format(&a, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "bad?addr");
    rl_key_from_ip(&a, "::ffff:192.0.2.1");
    rl_key_format(&a, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "192.0.2.1");
}

/* ---- the in-memory backend ---- */

static void ip_key(rl_key *k, unsigned i)
{
    char ip[32];
    snprintf(ip, sizeof(ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
             i & 255);
    rl_key_from_ip(k, ip);
}

static int take(rl_backend *be, const rl_key *k, int64_t now)
{
    rl_rate r = { 60, 2 };
    rl_take_result res;
    CU_ASSERT_EQUAL_FATAL(be->take(be->self, k, &r, now, 0, &res), MCPAUTH_OK);
    return res.allowed;
}

static int64_t locked_until(rl_backend *be, const rl_key *k, int64_t now)
{
    int64_t until = -1;
    CU_ASSERT_EQUAL(be->locked_until(be->self, k, now, &until), MCPAUTH_OK);
    return until;
}

static void lock(rl_backend *be, const rl_key *k, int64_t now)
{
    int locked = 0;
    for (uint32_t i = 0; i < RULE.max_failures; i++)
        CU_ASSERT_EQUAL(be->record_failure(be->self, k, now, &locked), MCPAUTH_OK);
    CU_ASSERT_EQUAL(locked, 1);
}

/* Feeding 50 times max_tracked addresses: the count never exceeds the
 * bound, and the lockouts among them stay while idle counters go. */
static void test_bound_and_lockouts(void)
{
    const size_t max = 1000;
    rl_backend be;
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, max, &RULE), MCPAUTH_OK);
    rl_key locked[20], k;
    for (unsigned i = 0; i < 20; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "192.168.0.%u", i);
        rl_key_from_ip(&locked[i], ip);
        lock(&be, &locked[i], T0);
    }
    size_t peak = 0;
    for (unsigned i = 0; i < 50 * max; i++) {
        ip_key(&k, i);
        CU_ASSERT_EQUAL(take(&be, &k, T0 + i), 1);
        size_t n = be.tracked(be.self);
        if (n > peak)
            peak = n;
        if (n > max)
            CU_FAIL_FATAL("tracked keys above max_tracked");
    }
    CU_ASSERT_EQUAL(peak, max);
    for (unsigned i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(locked_until(&be, &locked[i], T0 + 50 * max),
                        T0 + RULE.lockout_ms);
    be.destroy(be.self);
}

/* Order of eviction: an active rate counter goes before failure counts,
 * and both before a lockout. */
static void test_eviction_order(void)
{
    rl_backend be;
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, 256, &RULE), MCPAUTH_OK);
    rl_key lk, fk, k, first;
    int locked = 0;
    rl_key_from_ip(&lk, "192.0.2.1");
    rl_key_from_ip(&fk, "192.0.2.2");
    lock(&be, &lk, T0);
    CU_ASSERT_EQUAL(be.record_failure(be.self, &fk, T0, &locked), MCPAUTH_OK);
    CU_ASSERT_EQUAL(be.record_failure(be.self, &fk, T0, &locked), MCPAUTH_OK);
    ip_key(&first, 0);
    for (unsigned i = 0; i < 254; i++) {
        ip_key(&k, i);
        CU_ASSERT_EQUAL(take(&be, &k, T0), 1);
    }
    CU_ASSERT_EQUAL(be.tracked(be.self), 256);
    /* 300 newcomers: every one evicts a rate counter. */
    for (unsigned i = 1000; i < 1300; i++) {
        ip_key(&k, i);
        CU_ASSERT_EQUAL(take(&be, &k, T0), 1);
    }
    CU_ASSERT_EQUAL(be.tracked(be.self), 256);
    CU_ASSERT_EQUAL(locked_until(&be, &lk, T0), T0 + RULE.lockout_ms);
    /* fk kept its two failures: the third locks it. */
    CU_ASSERT_EQUAL(be.record_failure(be.self, &fk, T0, &locked), MCPAUTH_OK);
    CU_ASSERT_EQUAL(locked, 1);
    /* The first counter was evicted: a full budget again. */
    CU_ASSERT_EQUAL(take(&be, &first, T0), 1);
    CU_ASSERT_EQUAL(take(&be, &first, T0), 1);
    CU_ASSERT_EQUAL(take(&be, &first, T0), 0);
    be.destroy(be.self);
}

/* Recency is kept to 64 ms (rl_touch): a counter seen again within the
 * 64 ms step in which it was last put first keeps its place in the
 * eviction order; seen in a later step, it goes to the front. Which counter
 * a newcomer evicted shows in the budgets: an evicted counter comes back
 * with its whole burst (2), a kept one has spent it. */
static void test_recency_step(void)
{
    const int64_t base = T0 - T0 % 64;
    for (int later = 0; later <= 1; later++) {
        rl_backend be;
        CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, 256, &RULE), MCPAUTH_OK);
        rl_key k0, k1, k;
        ip_key(&k0, 0);
        ip_key(&k1, 1);
        for (unsigned i = 0; i < 256; i++) {
            ip_key(&k, i);
            CU_ASSERT_EQUAL(take(&be, &k, base), 1);
        }
        int64_t again = base + (later ? 64 : 63);
        CU_ASSERT_EQUAL(take(&be, &k0, again), 1); /* its second token */
        ip_key(&k, 1000);
        CU_ASSERT_EQUAL(take(&be, &k, again), 1);  /* evicts one */
        CU_ASSERT_EQUAL(be.tracked(be.self), 256);
        if (later) {
            CU_ASSERT_EQUAL(take(&be, &k0, again), 0); /* kept, spent */
            CU_ASSERT_EQUAL(take(&be, &k1, again), 1); /* evicted instead */
            CU_ASSERT_EQUAL(take(&be, &k1, again), 1);
        } else {
            CU_ASSERT_EQUAL(take(&be, &k0, again), 1); /* evicted */
            CU_ASSERT_EQUAL(take(&be, &k0, again), 1);
        }
        be.destroy(be.self);
    }
}

/* An entry whose state has run out (an expired lockout) goes before an
 * active counter, even a less recently used one. */
static void test_idle_goes_first(void)
{
    rl_backend be;
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, 256, &RULE), MCPAUTH_OK);
    rl_key lk, k, first;
    const int64_t later = T0 + RULE.lockout_ms + 1;
    rl_key_from_ip(&lk, "192.0.2.1");
    lock(&be, &lk, T0);
    ip_key(&first, 0);
    for (unsigned i = 0; i < 255; i++) {
        ip_key(&k, i);
        CU_ASSERT_EQUAL(take(&be, &k, later), 1);
    }
    ip_key(&k, 5000);
    CU_ASSERT_EQUAL(take(&be, &k, later), 1);
    CU_ASSERT_EQUAL(be.tracked(be.self), 256);
    /* The oldest counter kept its state: one request left of two. */
    CU_ASSERT_EQUAL(take(&be, &first, later), 1);
    CU_ASSERT_EQUAL(take(&be, &first, later), 0);
    be.destroy(be.self);
}

/* A table of nothing but lockouts gives up the one that ends first. */
static void test_only_lockouts(void)
{
    rl_backend be;
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, 256, &RULE), MCPAUTH_OK);
    rl_key k[257];
    for (unsigned i = 0; i < 257; i++) {
        ip_key(&k[i], i);
        lock(&be, &k[i], T0 + i);
    }
    CU_ASSERT_EQUAL(be.tracked(be.self), 256);
    CU_ASSERT_EQUAL(locked_until(&be, &k[0], T0 + 300), 0);
    CU_ASSERT_EQUAL(locked_until(&be, &k[1], T0 + 300), T0 + 1 + RULE.lockout_ms);
    CU_ASSERT_EQUAL(locked_until(&be, &k[256], T0 + 300), T0 + 256 + RULE.lockout_ms);
    be.destroy(be.self);
}

/* Dry takes and lockout checks create no state. */
static void test_dry_creates_nothing(void)
{
    rl_backend be;
    rl_rate r = { 60, 1 };
    rl_take_result res;
    rl_key k;
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, 1000, &RULE), MCPAUTH_OK);
    for (unsigned i = 0; i < 100; i++) {
        ip_key(&k, i);
        CU_ASSERT_EQUAL(be.take(be.self, &k, &r, T0, 1, &res), MCPAUTH_OK);
        CU_ASSERT_EQUAL(res.allowed, 1);
        CU_ASSERT_EQUAL(locked_until(&be, &k, T0), 0);
    }
    CU_ASSERT_EQUAL(be.tracked(be.self), 0);
    be.destroy(be.self);
}

/* locked_take answers as locked_until then take would: a dry call creates
 * nothing, the rate is counted, and a lockout is reported without taking. */
static void test_locked_take(void)
{
    rl_backend be;
    rl_rate r = { 60, 2 };
    rl_take_result res;
    int64_t until = -1;
    rl_key k, lk;
    ip_key(&k, 1);
    ip_key(&lk, 2);
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, 1000, &RULE), MCPAUTH_OK);
    CU_ASSERT_EQUAL(be.locked_take(be.self, &k, &r, T0, 1, &until, &res), MCPAUTH_OK);
    CU_ASSERT_EQUAL(res.allowed, 1);
    CU_ASSERT_EQUAL(until, 0);
    CU_ASSERT_EQUAL(be.tracked(be.self), 0);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(be.locked_take(be.self, &k, &r, T0, 0, &until, &res), MCPAUTH_OK);
        CU_ASSERT_EQUAL(res.allowed, 1);
    }
    CU_ASSERT_EQUAL(be.locked_take(be.self, &k, &r, T0, 0, &until, &res), MCPAUTH_OK);
    CU_ASSERT_EQUAL(res.allowed, 0);
    CU_ASSERT_EQUAL(res.wait_ms, 1000);
    CU_ASSERT_EQUAL(until, 0);
    lock(&be, &lk, T0);
    CU_ASSERT_EQUAL(be.locked_take(be.self, &lk, &r, T0, 0, &until, &res), MCPAUTH_OK);
    CU_ASSERT_EQUAL(until, T0 + RULE.lockout_ms);
    CU_ASSERT_EQUAL(take(&be, &lk, T0), 1); /* the burst is whole: */
    CU_ASSERT_EQUAL(take(&be, &lk, T0), 1); /* nothing was taken above */
    CU_ASSERT_EQUAL(be.locked_take(be.self, &lk, NULL, T0, 0, &until, &res), MCPAUTH_OK);
    CU_ASSERT_EQUAL(until, T0 + RULE.lockout_ms);
    be.destroy(be.self);
}

/* Memory per tracked key at the default max_tracked, measured with the
 * allocator's own count and printed for docs/ratelimit.md. */
static void test_bytes_per_key(void)
{
    const size_t max = 100000;
    rl_backend be;
    rl_key k;
    struct mallinfo2 before = mallinfo2();
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&be, max, &RULE), MCPAUTH_OK);
    for (unsigned i = 0; i < max; i++) {
        ip_key(&k, i);
        take(&be, &k, T0);
    }
    struct mallinfo2 after = mallinfo2();
    size_t tracked = be.tracked(be.self);
    /* Large blocks come from mmap (hblkhd), the rest from the heap. */
    size_t measured = (after.uordblks + after.hblkhd - before.uordblks -
                       before.hblkhd) / tracked;
    size_t computed = rl_memory_bytes_per_key(max);
    printf("\n  bytes per tracked key at max_tracked %zu: computed %zu, "
           "measured %zu (tracked %zu)\n",
           max, computed, measured, tracked);
    CU_ASSERT(computed <= 128);
    CU_ASSERT(measured <= computed + 8);
    be.destroy(be.self);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ratelimit backend", NULL, NULL);
    if (!s)
        return -1;
    if (sodium_init() < 0)
        return -1;
    CU_add_test(s, "gcra: the issue's example", test_gcra_example);
    CU_add_test(s, "gcra: dry take", test_gcra_dry);
    CU_add_test(s, "gcra: exact schedule at 7/min", test_gcra_exact_schedule);
    CU_add_test(s, "gcra: rate change", test_gcra_rate_change);
    CU_add_test(s, "gcra: time out of range", test_gcra_out_of_range);
    CU_add_test(s, "retry seconds", test_retry_seconds);
    CU_add_test(s, "keys", test_keys);
    CU_add_test(s, "bound holds, lockouts stay", test_bound_and_lockouts);
    CU_add_test(s, "eviction order", test_eviction_order);
    CU_add_test(s, "recency is kept to 64 ms", test_recency_step);
    CU_add_test(s, "idle entries go first", test_idle_goes_first);
    CU_add_test(s, "only lockouts: soonest end goes", test_only_lockouts);
    CU_add_test(s, "dry calls create nothing", test_dry_creates_nothing);
    CU_add_test(s, "locked_take: one lookup for both", test_locked_take);
    CU_add_test(s, "bytes per tracked key", test_bytes_per_key);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
