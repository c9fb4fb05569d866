/*
 * test_ratelimit_race.c: the in-memory backend under threads that share a
 * shard. Requests for a tracked client that stays on its list take only
 * the entry's lock and find the entry without the shard's (rl_memory.c);
 * here they run while other requests move the same entries on their lists
 * and a third thread evicts and reuses the shard's other entries on every
 * call: no request is counted twice or lost. And lookups run for clients
 * at the very edge of eviction, whose entries are taken over by other
 * clients while they look: no lookup answers for another client. Run
 * under ThreadSanitizer by `make test` as well.
 */
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- lookups that race the eviction of their own client ---- */

#define EDGE_CLIENTS 60000
#define EDGE_CLIENTS_SLOW 3000 /* under valgrind, which runs one thread at a time */
#define EDGE_EVERY 1000 /* clients between waits for the readers */

static unsigned edge_clients(void)
{
    return getenv("MCPAUTH_UNDER_VALGRIND") ? EDGE_CLIENTS_SLOW : EDGE_CLIENTS;
}

typedef struct edge {
    rl_backend be;
    atomic_uint done;   /* clients locked out so far, in order */
    atomic_int stop;
    atomic_int wrong;   /* a lockout end that is not the client's own */
    atomic_int errors;
    atomic_long found;  /* lookups that found their client still there */
} edge;

/* Client j is locked out at T0 + j, so its lockout, and only its, ends at
 * T0 + j + an hour. */
static void edge_key(rl_key *k, unsigned j)
{
    char ip[32];
    snprintf(ip, sizeof(ip), "10.%u.%u.2", (j >> 8) & 255, j & 255);
    rl_key_from_ip(k, ip);
}

/* Let the readers find a held client before going on, so that locking
 * and looking interleave however the threads are scheduled (valgrind
 * runs one thread at a time). */
static void edge_wait_found(edge *g)
{
    long before = atomic_load(&g->found);
    while (atomic_load(&g->found) == before)
        sched_yield();
}

/* Lock out client after client. The shard then holds nothing but
 * lockouts, so each newcomer evicts the one that ends soonest: the oldest,
 * and its entry is reused for the newcomer right away. */
static void *edge_locker(void *arg)
{
    edge *g = arg;
    rl_key k;
    int locked = 0;
    for (unsigned j = 0, n = edge_clients(); j < n; j++) {
        edge_key(&k, j);
        for (int f = 0; f < 3; f++)
            if (g->be.record_failure(g->be.self, &k, T0 + j, &locked) != MCPAUTH_OK)
                atomic_fetch_add(&g->errors, 1);
        if (!locked)
            atomic_fetch_add(&g->errors, 1);
        atomic_store(&g->done, j + 1);
        if (j % EDGE_EVERY == EDGE_EVERY - 1)
            edge_wait_found(g);
    }
    atomic_store(&g->stop, 1);
    return NULL;
}

/* Ask for the oldest clients still held, the next to be evicted: each
 * answer must be the client's own lockout end, or 0 once it is gone. */
static void *edge_reader(void *arg)
{
    edge *g = arg;
    rl_key k;
    for (unsigned n = 0; !atomic_load(&g->stop); n++) {
        unsigned done = atomic_load(&g->done);
        if (done < TRACKED) {
            sched_yield();
            continue;
        }
        unsigned j = done - TRACKED + (n & 3);
        int64_t until = -1;
        edge_key(&k, j);
        if (g->be.locked_until(g->be.self, &k, T0, &until) != MCPAUTH_OK)
            atomic_fetch_add(&g->errors, 1);
        if (until != 0 && until != T0 + (int64_t)j + RULE.lockout_ms)
            atomic_fetch_add(&g->wrong, 1);
        if (until != 0)
            atomic_fetch_add(&g->found, 1);
        if (n % 64 == 63)
            sched_yield(); /* valgrind: let the locker run */
    }
    return NULL;
}

static void test_eviction_edge(void)
{
    static edge g;
    pthread_t tid[3];
    memset(&g, 0, sizeof(g));
    CU_ASSERT_EQUAL_FATAL(rl_memory_backend_new(&g.be, TRACKED, &RULE), MCPAUTH_OK);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[0], NULL, edge_locker, &g), 0);
    for (int t = 1; t < 3; t++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[t], NULL, edge_reader, &g), 0);
    for (int t = 0; t < 3; t++)
        pthread_join(tid[t], NULL);
    CU_ASSERT_EQUAL(atomic_load(&g.wrong), 0);
    CU_ASSERT_EQUAL(atomic_load(&g.errors), 0);
    /* The readers did look at clients still held, not only at gone ones. */
    CU_ASSERT(atomic_load(&g.found) >= edge_clients() / EDGE_EVERY);
    CU_ASSERT_EQUAL(g.be.tracked(g.be.self), TRACKED);
    g.be.destroy(g.be.self);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ratelimit backend under threads", NULL, NULL);
    if (!s || sodium_init() < 0)
        return -1;
    CU_add_test(s, "a shared shard: nothing counted twice or lost",
                test_shared_shard);
    CU_add_test(s, "lookups at the eviction edge answer for their own client",
                test_eviction_edge);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
