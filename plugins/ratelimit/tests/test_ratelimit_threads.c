/*
 * test_ratelimit_threads.c: many threads calling mcpauth_check on one
 * policy at once never get more requests through than GCRA allows.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "rl_testutil.h"
#include "testutil.h"

#define THREADS 8
#define PER_THREAD 4000
#define RPM 600     /* one every 100 ms */
#define BURST 25
#define NIPS 4

static const char *ips[NIPS] = { "203.0.113.1", "203.0.113.2", "2001:db8::1",
                                 "2001:db8::2" };

typedef struct worker {
    mcpauth *a;
    int spread_time; /* 0: all at one instant; 1: thread's own clock */
    atomic_int allowed[NIPS];
    atomic_int denied_other; /* denials for any other reason: a bug */
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    for (int j = 0; j < PER_THREAD; j++) {
        int ip = j % NIPS;
        int64_t now = RLT_T0 + (w->spread_time ? j : 0);
        mcpauth_decision d = rlt_check(w->a, "anon", ips[ip], now);
        if (d.allowed)
            atomic_fetch_add(&w->allowed[ip], 1);
        else if (d.reason != MCPAUTH_REASON_RATE_LIMITED)
            atomic_fetch_add(&w->denied_other, 1);
    }
    return NULL;
}

static void run(worker *w)
{
    pthread_t t[THREADS];
    mcpauth_error err;
    w->a = rlt_open("version: 1\n"
                    "stack:\n"
                    "  - plugin: ratelimit\n"
                    "    control: required\n"
                    "    config: { requests_per_minute: 600, burst: 25, by: ip }\n"
                    "  - plugin: @FAKEAUTH@\n"
                    "    control: required\n",
                    &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w->a);
    for (int i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, hammer, w), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    rlt_close(w->a);
    CU_ASSERT_EQUAL(atomic_load(&w->denied_other), 0);
}

/* All at one instant: exactly the burst per address, whatever the
 * interleaving. */
static void test_same_instant(void)
{
    static worker w;
    run(&w);
    for (int i = 0; i < NIPS; i++)
        CU_ASSERT_EQUAL(atomic_load(&w.allowed[i]), BURST);
}

/* Each thread's clock runs from T0 to T0 + PER_THREAD ms; the threads'
 * times arrive out of order. GCRA still admits at most burst + elapsed/T
 * per address, and at least the burst. */
static void test_spread_in_time(void)
{
    static worker w;
    w.spread_time = 1;
    run(&w);
    int64_t last_ms = PER_THREAD - 1; /* the latest time any request has */
    int bound = BURST + (int)(last_ms * RPM / 60000);
    for (int i = 0; i < NIPS; i++) {
        int n = atomic_load(&w.allowed[i]);
        if (n > bound || n < BURST)
            fprintf(stderr, "\n  address %d: %d allowed, bound %d\n", i, n, bound);
        CU_ASSERT(n <= bound);
        CU_ASSERT(n >= BURST);
    }
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("ratelimit threads", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "same instant: exactly the burst", test_same_instant);
    CU_add_test(s, "spread in time: within the GCRA bound", test_spread_in_time);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
