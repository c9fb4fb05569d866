/*
 * test_rcu.c: the read sections every check enters (core/rcu.c). A writer
 * must not get the old pointer back while any reader can still hold it:
 * one that ended its section on another thread, one on a slot it owns,
 * one on the shared slot past the owned ones. Run twice by ctest: as the
 * machine orders entries (membarrier where the kernel has it), and with
 * `--fences`, as on a kernel without it. Also run under ThreadSanitizer
 * (scripts/test.sh).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rcu.h"
#include "testutil.h"

#if defined(__SANITIZE_THREAD__)
#define RCU_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCU_TEST_TSAN 1
#endif
#endif

/* A published object; `live` is cleared just before it is freed, so a
 * reader that still sees it after its writer got it back reads 0 (and
 * ASan or TSan reports the use after free). */
typedef struct obj {
    atomic_int live;
    int value;
} obj;

static obj *obj_new(int value)
{
    obj *o = calloc(1, sizeof(*o));
    atomic_init(&o->live, 1);
    o->value = value;
    return o;
}

static void obj_free(obj *o)
{
    if (o)
        atomic_store(&o->live, 0);
    free(o);
}

/* Publish next; the previous pointer, which the swap must say may be
 * freed. */
static void *swap(mcpauth_rcu *r, void *next)
{
    int reclaim = 0;
    void *prev = mcpauth__rcu_swap(r, next, &reclaim);
    CU_ASSERT_EQUAL(reclaim, 1);
    return prev;
}

static void test_sections_are_counted(void)
{
    mcpauth_rcu r;
    obj *a = obj_new(1);
    mcpauth__rcu_init(&r, a);
    mcpauth_rcu_ticket t1, t2;
    CU_ASSERT_PTR_EQUAL(mcpauth__rcu_lock(&r, &t1), a);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 1);
    CU_ASSERT_PTR_EQUAL(mcpauth__rcu_lock(&r, &t2), a);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 2);
    mcpauth__rcu_unlock(&r, &t2);
    mcpauth__rcu_unlock(&r, &t1);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 0);
    obj *b = obj_new(2);
    CU_ASSERT_PTR_EQUAL(swap(&r, b), a);
    obj_free(a);
    CU_ASSERT_PTR_EQUAL(mcpauth__rcu_lock(&r, &t1), b);
    mcpauth__rcu_unlock(&r, &t1);
    obj_free(swap(&r, NULL));
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 0);
    mcpauth__rcu_destroy(&r);
}

/* ---- a section ended on another thread ---- */

typedef struct handoff {
    mcpauth_rcu *r;
    mcpauth_rcu_ticket t;
} handoff;

static void *unlock_main(void *arg)
{
    handoff *h = arg;
    mcpauth__rcu_unlock(h->r, &h->t);
    return NULL;
}

static void *lock_main(void *arg)
{
    handoff *h = arg;
    mcpauth__rcu_lock(h->r, &h->t);
    return NULL;
}

static void test_section_ended_elsewhere(void)
{
    mcpauth_rcu r;
    obj *a = obj_new(1);
    mcpauth__rcu_init(&r, a);
    /* Entered here, ended on another thread. */
    handoff h = { &r, { 0, 0 } };
    mcpauth__rcu_lock(&r, &h.t);
    pthread_t th;
    pthread_create(&th, NULL, unlock_main, &h);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 0);
    /* Entered on a thread that then exits (its slot goes to the next
     * thread), ended here. */
    pthread_create(&th, NULL, lock_main, &h);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 1);
    mcpauth_rcu_ticket mine;
    mcpauth__rcu_lock(&r, &mine);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 2);
    mcpauth__rcu_unlock(&r, &h.t);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 1);
    mcpauth__rcu_unlock(&r, &mine);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&r), 0);
    obj_free(swap(&r, NULL));
    mcpauth__rcu_destroy(&r);
}

/* One thread enters sections and hands each to another, which ends it,
 * while the first keeps entering and leaving sections of its own on the
 * same slot: no count is lost between the two. */
#define HANDOFFS 200000

typedef struct relay {
    mcpauth_rcu *r;
    mcpauth_rcu_ticket t[HANDOFFS];
    atomic_long ready; /* tickets t[0..ready) may be ended */
} relay;

static void *relay_owner(void *arg)
{
    relay *x = arg;
    for (long i = 0; i < HANDOFFS; i++) {
        mcpauth__rcu_lock(x->r, &x->t[i]);
        atomic_store_explicit(&x->ready, i + 1, memory_order_release);
        mcpauth_rcu_ticket own;
        mcpauth__rcu_lock(x->r, &own);
        mcpauth__rcu_unlock(x->r, &own);
    }
    return NULL;
}

static void *relay_ender(void *arg)
{
    relay *x = arg;
    for (long i = 0; i < HANDOFFS; i++) {
        while (atomic_load_explicit(&x->ready, memory_order_acquire) <= i)
            sched_yield();
        mcpauth__rcu_unlock(x->r, &x->t[i]);
    }
    return NULL;
}

static void test_sections_ended_elsewhere_meanwhile(void)
{
    relay *x = calloc(1, sizeof(*x));
    mcpauth_rcu r;
    obj *a = obj_new(1);
    mcpauth__rcu_init(&r, a);
    x->r = &r;
    pthread_t o, e;
    pthread_create(&o, NULL, relay_owner, x);
    pthread_create(&e, NULL, relay_ender, x);
    pthread_join(o, NULL);
    pthread_join(e, NULL);
    long left = mcpauth__rcu_readers(&r);
    CU_ASSERT_EQUAL(left, 0);
    if (left == 0) { /* else a swap would wait for ever: fail instead */
        CU_ASSERT_PTR_EQUAL(swap(&r, NULL), a);
        obj_free(a);
        mcpauth__rcu_destroy(&r);
    }
    free(x);
}

/* ---- the writer waits for a reader ---- */

typedef struct swapper {
    mcpauth_rcu *r;
    obj *next;
    obj *got;
    atomic_int done;
} swapper;

/* The writer's side: once the swap returns, the old object counts as
 * freed (`live` cleared at once; the memory itself is freed by the test
 * after every reader has been joined). */
static void *swap_main(void *arg)
{
    swapper *w = arg;
    w->got = swap(w->r, w->next);
    atomic_store(&w->got->live, 0);
    atomic_store(&w->done, 1);
    return NULL;
}

/* The reader holds a; the writer publishes b and must still be waiting
 * after the reader has yielded its CPU a thousand times; it returns a once
 * the reader leaves. */
static void test_writer_waits_for_reader(void)
{
    mcpauth_rcu r;
    obj *a = obj_new(1);
    mcpauth__rcu_init(&r, a);
    mcpauth_rcu_ticket t;
    obj *seen = mcpauth__rcu_lock(&r, &t);
    swapper w = { &r, obj_new(2), NULL, 0 };
    pthread_t th;
    pthread_create(&th, NULL, swap_main, &w);
    while (atomic_load(&r.epoch) == 0)
        sched_yield();
    int early = 0;
    for (int i = 0; i < 1000; i++) {
        sched_yield();
        early |= atomic_load(&w.done);
    }
    CU_ASSERT_EQUAL(early, 0);
    CU_ASSERT_EQUAL(atomic_load(&seen->live), 1);
    /* A new reader sees b meanwhile, and does not hold the writer. */
    mcpauth_rcu_ticket t2;
    obj *fresh = mcpauth__rcu_lock(&r, &t2);
    CU_ASSERT_PTR_EQUAL(fresh, w.next);
    mcpauth__rcu_unlock(&r, &t2);
    mcpauth__rcu_unlock(&r, &t);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(atomic_load(&w.done), 1);
    CU_ASSERT_PTR_EQUAL(w.got, a);
    obj_free(w.got);
    obj_free(swap(&r, NULL));
    mcpauth__rcu_destroy(&r);
}

/* A swap whose barrier fails hands the old object back to be kept, not
 * freed. The next swap must then wait for every reader older than the
 * failed one, in either phase: here one that entered before it. */
static void test_failed_barrier(void)
{
    mcpauth_rcu r;
    obj *a = obj_new(1), *b = obj_new(2);
    mcpauth__rcu_init(&r, a);
    mcpauth_rcu_ticket t;
    CU_ASSERT_PTR_EQUAL(mcpauth__rcu_lock(&r, &t), a);
    mcpauth__rcu_fail_barriers(1);
    int reclaim = 1;
    CU_ASSERT_PTR_EQUAL(mcpauth__rcu_swap(&r, b, &reclaim), a);
    CU_ASSERT_EQUAL(reclaim, 0);
    swapper w = { &r, obj_new(3), NULL, 0 };
    pthread_t th;
    pthread_create(&th, NULL, swap_main, &w);
    int early = 0;
    for (int i = 0; i < 1000; i++) {
        sched_yield();
        early |= atomic_load(&w.done);
    }
    CU_ASSERT_EQUAL(early, 0);
    mcpauth__rcu_unlock(&r, &t);
    pthread_join(th, NULL);
    CU_ASSERT_PTR_EQUAL(w.got, b);
    obj_free(a); /* kept by the failed swap, no reader left now */
    obj_free(w.got);
    obj_free(swap(&r, NULL));
    mcpauth__rcu_destroy(&r);
}

/* ---- more threads than owned slots ---- */

#define MANY 80

typedef struct crowd {
    mcpauth_rcu *r;
    pthread_barrier_t held;
    atomic_int go[2];        /* leave: [0] owned-slot threads, [1] shared */
    atomic_int is_shared[MANY];
    pthread_t tid[MANY];     /* by the index each thread took */
    atomic_int next;         /* index of the next thread to start */
} crowd;

static void *crowd_main(void *arg)
{
    crowd *c = arg;
    int me = atomic_fetch_add(&c->next, 1);
    mcpauth_rcu_ticket t;
    obj *o = mcpauth__rcu_lock(c->r, &t);
    int shared = t.slot == MCPAUTH_RCU_SHARED;
    c->tid[me] = pthread_self();
    atomic_store(&c->is_shared[me], shared);
    pthread_barrier_wait(&c->held);
    while (!atomic_load(&c->go[shared]))
        sched_yield();
    int ok = atomic_load(&o->live);
    mcpauth__rcu_unlock(c->r, &t);
    return ok ? NULL : (void *)1;
}

/* MANY threads started into a section of r each; returns once all are
 * in. */
static void crowd_enter(crowd *c, mcpauth_rcu *r)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    pthread_barrier_init(&c->held, NULL, MANY + 1);
    for (int i = 0; i < MANY; i++) {
        pthread_t th;
        pthread_create(&th, NULL, crowd_main, c);
    }
    pthread_barrier_wait(&c->held);
}

static int crowd_shared(crowd *c)
{
    int n = 0;
    for (int i = 0; i < MANY; i++)
        n += atomic_load(&c->is_shared[i]);
    return n;
}

/* Let the crowd's threads on owned slots (shared 0) or on the shared slot
 * (1) leave; returns how many of them saw their object freed while they
 * held it. */
static int crowd_leave_part(crowd *c, int shared)
{
    atomic_store(&c->go[shared], 1);
    int bad = 0;
    for (int i = 0; i < MANY; i++) {
        void *ret;
        if (atomic_load(&c->is_shared[i]) != shared)
            continue;
        pthread_join(c->tid[i], &ret);
        bad += ret != NULL;
    }
    return bad;
}

static int crowd_leave(crowd *c)
{
    int bad = crowd_leave_part(c, 0) + crowd_leave_part(c, 1);
    pthread_barrier_destroy(&c->held);
    return bad;
}

/* MANY threads in a section at once: all counted, the ones past the owned
 * slots on the shared one; the writer waits for every one, those on the
 * shared slot included. A second crowd after the first has exited finds
 * the same owned slots free again. */
static void run_crowd(mcpauth_rcu *r, int round)
{
    crowd c;
    crowd_enter(&c, r);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(r), MANY);
    /* This thread owns a slot (it entered sections before), so the crowd
     * has one owned slot fewer than there are. */
    CU_ASSERT_EQUAL(crowd_shared(&c), MANY - (MCPAUTH_RCU_SHARED - 1));
    swapper w = { r, obj_new(round + 10), NULL, 0 };
    pthread_t wt;
    pthread_create(&wt, NULL, swap_main, &w);
    CU_ASSERT_EQUAL(crowd_leave_part(&c, 0), 0);
    int early = 0;
    for (int i = 0; i < 1000; i++) {
        sched_yield();
        early |= atomic_load(&w.done);
    }
    CU_ASSERT_EQUAL(early, 0); /* the shared slot's readers are still in */
    CU_ASSERT_EQUAL(crowd_leave_part(&c, 1), 0);
    pthread_barrier_destroy(&c.held);
    pthread_join(wt, NULL);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(r), 0);
    obj_free(w.got);
}

static void test_more_threads_than_slots(void)
{
    mcpauth_rcu r;
    mcpauth__rcu_init(&r, obj_new(1));
    mcpauth_rcu_ticket t;
    mcpauth__rcu_lock(&r, &t); /* this thread's slot, if not yet taken */
    CU_ASSERT_NOT_EQUAL(t.slot, MCPAUTH_RCU_SHARED);
    mcpauth__rcu_unlock(&r, &t);
    run_crowd(&r, 1);
    run_crowd(&r, 2);
    obj_free(swap(&r, NULL));
    mcpauth__rcu_destroy(&r);
}

/* ---- fork ---- */

static void *slot_of_new_thread(void *arg)
{
    mcpauth_rcu_ticket t;
    mcpauth__rcu_lock(arg, &t);
    mcpauth__rcu_unlock(arg, &t);
    return (void *)(uintptr_t)(t.slot != MCPAUTH_RCU_SHARED);
}

/* In a child forked while every owned slot is taken by the parent's
 * threads, only the forking thread lives on: a new thread gets an owned
 * slot, and a writer's swap (membarrier, where used) works there. */
__attribute__((unused)) static void test_fork_frees_other_threads_slots(void)
{
    mcpauth_rcu r;
    mcpauth__rcu_init(&r, obj_new(1));
    crowd c;
    crowd_enter(&c, &r);
    CU_ASSERT(crowd_shared(&c) > 0); /* every owned slot is taken */
    pid_t pid = fork();
    if (pid == 0) {
        mcpauth_rcu mine;
        obj *a = obj_new(5);
        mcpauth__rcu_init(&mine, a);
        pthread_t t;
        void *owned = NULL;
        pthread_create(&t, NULL, slot_of_new_thread, &mine);
        pthread_join(t, &owned);
        int ok = owned && swap(&mine, NULL) == a;
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(crowd_leave(&c), 0);
    obj_free(swap(&r, NULL));
    mcpauth__rcu_destroy(&r);
}

/* ---- readers and a writer at full speed ---- */

#define READERS 2
#define SWAPS 1000

typedef struct race {
    mcpauth_rcu r;
    atomic_int stop, started;
    atomic_long dead_reads, reads;
} race;

static void *race_reader(void *arg)
{
    race *x = arg;
    long dead = 0, n = 0;
    while (!atomic_load_explicit(&x->stop, memory_order_relaxed)) {
        mcpauth_rcu_ticket t;
        obj *o = mcpauth__rcu_lock(&x->r, &t);
        dead += atomic_load_explicit(&o->live, memory_order_relaxed) != 1;
        dead += o->value <= 0;
        mcpauth__rcu_unlock(&x->r, &t);
        if (n++ == 0)
            atomic_fetch_add(&x->started, 1);
    }
    atomic_fetch_add(&x->dead_reads, dead);
    atomic_fetch_add(&x->reads, n);
    return NULL;
}

static void test_readers_never_see_freed(void)
{
    race *x = calloc(1, sizeof(*x));
    mcpauth__rcu_init(&x->r, obj_new(1));
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[i], NULL, race_reader, x);
    while (atomic_load(&x->started) < READERS)
        sched_yield();
    for (int i = 0; i < SWAPS; i++)
        obj_free(swap(&x->r, obj_new(i + 2)));
    atomic_store(&x->stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&x->dead_reads), 0);
    CU_ASSERT(atomic_load(&x->reads) > 0);
    CU_ASSERT_EQUAL(mcpauth__rcu_readers(&x->r), 0);
    obj_free(swap(&x->r, NULL));
    mcpauth__rcu_destroy(&x->r);
    free(x);
}

static int add_tests(void)
{
    CU_pSuite s = CU_add_suite("rcu", NULL, NULL);
    return !s ||
           !CU_add_test(s, "sections are counted", test_sections_are_counted) ||
           !CU_add_test(s, "a section ended on another thread", test_section_ended_elsewhere) ||
           !CU_add_test(s, "sections ended elsewhere meanwhile",
                        test_sections_ended_elsewhere_meanwhile) ||
           !CU_add_test(s, "the writer waits for a reader", test_writer_waits_for_reader) ||
           !CU_add_test(s, "after a failed barrier", test_failed_barrier) ||
           !CU_add_test(s, "more threads than owned slots", test_more_threads_than_slots) ||
#ifndef RCU_TEST_TSAN /* TSan cannot start threads after such a fork */
           !CU_add_test(s, "fork frees the other threads' slots",
                        test_fork_frees_other_threads_slots) ||
#endif
           !CU_add_test(s, "readers never see a freed object", test_readers_never_see_freed);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--fences") == 0)
        mcpauth__rcu_use_fences();
    /* Without membarrier (an old kernel, seccomp) both runs take fences:
     * say which this one is. */
    printf("rcu readers ordered by %s\n",
           mcpauth__rcu_asymmetric() ? "membarrier" : "a locked add on entry");
    return tu_main(add_tests);
}
