/* rcu.c: see rcu.h. A two-phase counter scheme: a reader counts itself in
 * the current phase's slot; a writer flips the phase after publishing, then
 * waits for the old phase's counters to drain. */
#include "rcu.h"

#include <sched.h>

/* Performance: every check reads this. The library's default TLS model
 * calls __tls_get_addr for each access; initial-exec is one load off the
 * thread pointer. It is fine for a library linked by the program (as
 * libmcpauth is), and the 4 bytes fit glibc's reserve even if it is
 * dlopened. */
static _Thread_local unsigned rcu_thread_slot
    __attribute__((tls_model("initial-exec"))) = ~0u;
static atomic_uint rcu_next_slot;

static unsigned rcu_slot_index(void)
{
    if (rcu_thread_slot == ~0u)
        rcu_thread_slot = atomic_fetch_add(&rcu_next_slot, 1) % MCPAUTH_RCU_SLOTS;
    return rcu_thread_slot;
}

void mcpauth__rcu_init(mcpauth_rcu *r, void *initial)
{
    atomic_init(&r->ptr, initial);
    atomic_init(&r->epoch, 0);
    pthread_mutex_init(&r->writer, NULL);
    for (unsigned i = 0; i < MCPAUTH_RCU_SLOTS; i++) {
        atomic_init(&r->slots[i].count[0], 0);
        atomic_init(&r->slots[i].count[1], 0);
    }
}

void mcpauth__rcu_destroy(mcpauth_rcu *r)
{
    pthread_mutex_destroy(&r->writer);
}

void *mcpauth__rcu_lock(mcpauth_rcu *r, mcpauth_rcu_ticket *t)
{
    unsigned slot = rcu_slot_index();
    for (;;) {
        unsigned e = atomic_load(&r->epoch);
        atomic_fetch_add(&r->slots[slot].count[e & 1], 1);
        /* If a writer flipped the phase between our read of the epoch and
         * our increment, it may already have seen our slot drained: retry
         * in the new phase. */
        if (atomic_load(&r->epoch) == e) {
            t->slot = slot;
            t->phase = e & 1;
            return atomic_load(&r->ptr);
        }
        atomic_fetch_sub(&r->slots[slot].count[e & 1], 1);
    }
}

void mcpauth__rcu_unlock(mcpauth_rcu *r, const mcpauth_rcu_ticket *t)
{
    atomic_fetch_sub_explicit(&r->slots[t->slot].count[t->phase], 1,
                              memory_order_release);
}

static void rcu_wait_phase(mcpauth_rcu *r, unsigned phase)
{
    for (unsigned i = 0; i < MCPAUTH_RCU_SLOTS; i++)
        while (atomic_load(&r->slots[i].count[phase]) != 0)
            sched_yield();
}

void *mcpauth__rcu_swap(mcpauth_rcu *r, void *next)
{
    pthread_mutex_lock(&r->writer);
    void *prev = atomic_exchange(&r->ptr, next);
    unsigned e = atomic_fetch_add(&r->epoch, 1);
    rcu_wait_phase(r, e & 1);
    pthread_mutex_unlock(&r->writer);
    return prev;
}

void *mcpauth__rcu_peek(mcpauth_rcu *r)
{
    return atomic_load(&r->ptr);
}
