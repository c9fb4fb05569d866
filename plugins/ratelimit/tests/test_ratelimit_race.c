/*
 * test_ratelimit_race.c: the in-memory backend under threads that share a
 * shard. Requests for a tracked client that stays on its list take only
 * the entry's lock and find the entry without the shard's (rl_memory.c);
 * here they run while other requests move the same entries on their lists
 * and a third thread evicts and reuses the shard's other entries on every
 * call. Whatever the interleaving, no request is counted twice or lost,
 * and no lookup answers for another client. Run under ThreadSanitizer by
 * `make test` as well.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "rl_backend.h"
#include "testutil.h"

#define T0 INT64_C(1795780800000) /* a multiple of 64 ms */
#define TRACKED 64                /* one shard */
#define NLOCKED 4
#define NRATE 16
#define ROUNDS 4000
#define BURST (2 * ROUNDS + 2000) /* every request of the threads passes */
#define CHURN 100000

/* Three failures lock an address out for an hour; one failure keeps an
 * entry on the failing list for an hour, where only lockouts outlast it. */
static const rl_lockout_rule RULE = { 3, 3600000, 3600000 };
static const rl_rate RATE = { 1, BURST }; /* one a minute after the burst */

typedef struct race {
    rl_backend be;
    rl_key locked[NLOCKED], rate[NRATE];
    pthread_barrier_t start;
    atomic_int allowed[NRATE];
    atomic_int wrong;   /* a locked client answered as not locked, or the other way */
    atomic_int errors;  /* a call that did not return MCPAUTH_OK */
} race;

typedef struct rate_arg {
    race *r;
    int thread;
} rate_arg;

static void key_of(rl_key *k, const char *fmt, unsigned i)
{
    char ip[48];
    snprintf(ip, sizeof(ip), fmt, i);
    rl_key_from_ip(k, ip);
}

/* One request for rate client c at time `now`, counted. */
static void rate_request(race *r, unsigned c, int64_t now)
{
    int64_t until = -1;
    rl_take_result res;
    if (r->be.locked_take(r->be.self, &r->rate[c], &RATE, now, 0, &until,
                          &res) != MCPAUTH_OK)
        atomic_fetch_add(&r->errors, 1);
    if (until != 0)
        atomic_fetch_add(&r->wrong, 1);
    if (res.allowed)
        atomic_fetch_add(&r->allowed[c], 1);
}

static void locked_request(race *r, unsigned c)
{
    int64_t until = -1;
    if (r->be.locked_until(r->be.self, &r->locked[c], T0, &until) != MCPAUTH_OK)
        atomic_fetch_add(&r->errors, 1);
    if (until != T0 + RULE.lockout_ms)
        atomic_fetch_add(&r->wrong, 1);
}

/* Every rate client, at T0 and at T0 + 64 ms in turn: a new 64 ms step
 * moves the entry to the front of its list under the shard lock, the same
 * step leaves it where it is and skips that lock. Both times are inside
 * one minute, so each client gets exactly BURST requests through in all:
 * every one of the threads' and then, one at a time, BURST - 2 * ROUNDS
 * more. A request counted on a stale budget (two threads updating one
 * entry at once) would leave more than that. */
static void *rate_worker(void *arg)
{
    race *r = ((rate_arg *)arg)->r;
    int t = ((rate_arg *)arg)->thread;
    pthread_barrier_wait(&r->start);
    for (unsigned j = 0; j < ROUNDS; j++) {
        int64_t now = T0 + 64 * (int64_t)((j / 3 + (unsigned)t) & 1);
        for (unsigned c = 0; c < NRATE; c++)
            rate_request(r, c, now);
        locked_request(r, j % NLOCKED);
    }
    return NULL;
}

/* A new client on every call: the shard is full, so each one evicts the
 * least recent rate-only entry and takes its slot and its chain. */
static void *churn_worker(void *arg)
{
    race *r = arg;
    static const rl_rate rate = { 1000, 10 };
    rl_take_result res;
    rl_key k;
    pthread_barrier_wait(&r->start);
    for (unsigned i = 0; i < CHURN; i++) {
        key_of(&k, "10.1.%u.1", i); /* a text, not an address, past 255 */
        if (r->be.take(r->be.self, &k, &rate, T0, 0, &res) != MCPAUTH_OK ||
            !res.allowed)
            atomic_fetch_add(&r->errors, 1);
    }
    return NULL;
}

/* The locked clients and the failing ones, set up before the threads. */
static void race_setup(race *r)
{
    int locked;
    for (unsigned c = 0; c < NLOCKED; c++) {
        key_of(&r->locked[c], "192.0.2.%u", c);
        for (int f = 0; f < 3; f++)
            CU_ASSERT_EQUAL(r->be.record_failure(r->be.self, &r->locked[c], T0,
                                                 &locked), MCPAUTH_OK);
        CU_ASSERT_EQUAL(locked, 1);
    }
    for (unsigned c = 0; c < NRATE; c++) {
        key_of(&r->rate[c], "198.51.100.%u", c);
        CU_ASSERT_EQUAL(r->be.record_failure(r->be.self, &r->rate[c], T0,
                                             &locked), MCPAUTH_OK);
        CU_ASSERT_EQUAL(locked, 0);
    }
}

/* Requests still allowed at T0 + 64 ms, taken one at a time. */
static int remaining(rl_backend *be, const rl_key *k)
{
    rl_take_result res;
    int n = 0;
    while (be->take(be->self, k, &RATE, T0 + 64, 0, &res) == MCPAUTH_OK &&
           res.allowed && n <= BURST)
        n++;
    return n;
}

static void test_shared_shard(void)
{
    static race r;
    rate_arg args[2] = { { &r, 0 }, { &r, 1 } };
    pthread_t tid[3];
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&r.be, TRACKED, &RULE), MCPAUTH_OK);
    race_setup(&r);
    pthread_barrier_init(&r.start, NULL, 3);
    for (int t = 0; t < 2; t++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[t], NULL, rate_worker, &args[t]), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[2], NULL, churn_worker, &r), 0);
    for (int t = 0; t < 3; t++)
        pthread_join(tid[t], NULL);
    for (unsigned c = 0; c < NRATE; c++) {
        CU_ASSERT_EQUAL(atomic_load(&r.allowed[c]), 2 * ROUNDS);
        CU_ASSERT_EQUAL(remaining(&r.be, &r.rate[c]), BURST - 2 * ROUNDS);
    }
    CU_ASSERT_EQUAL(atomic_load(&r.wrong), 0);
    CU_ASSERT_EQUAL(atomic_load(&r.errors), 0);
    CU_ASSERT_EQUAL(r.be.tracked(r.be.self), TRACKED);
    pthread_barrier_destroy(&r.start);
    r.be.destroy(r.be.self);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ratelimit backend under threads", NULL, NULL);
    if (!s || sodium_init() < 0)
        return -1;
    CU_add_test(s, "a shared shard: nothing counted twice or lost",
                test_shared_shard);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
