/*
 * rcu.h: read-mostly publication of a pointer with safe reclamation.
 *
 * Readers (every mcpauth_check) count themselves in a slot that is, for
 * the first MCPAUTH_RCU_SLOTS - 1 threads alive at once, their thread's
 * own: where the kernel has membarrier(2), entering and leaving a read
 * section is then two plain stores, with no locked instruction (without
 * it, entering takes one). Writers (reloads) publish a new pointer, then
 * wait until no reader can still hold the old one. Readers never wait for
 * a writer, so a slow reload cannot stall a request.
 */
#ifndef MCPAUTH_RCU_H
#define MCPAUTH_RCU_H

#include <pthread.h>
#include <stdatomic.h>

/* The last slot is shared by the threads past the first SLOTS - 1 alive at
 * once, which count there with atomic adds. */
#define MCPAUTH_RCU_SLOTS 64
#define MCPAUTH_RCU_SHARED (MCPAUTH_RCU_SLOTS - 1)

/* A slot's readers in each phase: own - foreign. `own` is written only by
 * the thread that owns the slot (or, for the shared slot, by atomic adds);
 * `foreign` counts read sections that another thread ended (a key verdict
 * released away from the thread that verified). The structs holding an rcu
 * come from malloc, which aligns to 16 bytes, not to a 64-byte cache line:
 * a line of padding on each side keeps every slot's counters off every
 * other hot field's line, whatever the alignment. */
typedef struct mcpauth_rcu_slot {
    char before[64];
    atomic_ulong own[2];
    atomic_ulong foreign[2];
    char after[64 - 4 * sizeof(atomic_ulong)];
} mcpauth_rcu_slot;

typedef struct mcpauth_rcu {
    _Atomic(void *) ptr;
    atomic_uint epoch;
    pthread_mutex_t writer;
    int unwaited; /* a swap could not wait (writer lock) */
    mcpauth_rcu_slot slots[MCPAUTH_RCU_SLOTS];
} mcpauth_rcu;

/* A reader's ticket: pass it back to mcpauth__rcu_unlock, from any thread. */
typedef struct mcpauth_rcu_ticket {
    unsigned slot;
    unsigned phase;
} mcpauth_rcu_ticket;

void mcpauth__rcu_init(mcpauth_rcu *r, void *initial);
void mcpauth__rcu_destroy(mcpauth_rcu *r);
/* Enter a read section and return the current pointer. */
void *mcpauth__rcu_lock(mcpauth_rcu *r, mcpauth_rcu_ticket *t);
void mcpauth__rcu_unlock(mcpauth_rcu *r, const mcpauth_rcu_ticket *t);
/* Publish `next` and wait for readers of the previous pointer to leave;
 * returns the previous pointer. *reclaim is 1 when it may now be freed,
 * 0 when the wait could not be made safe (membarrier refused since the
 * first rcu was set up: see rcu_barrier in rcu.c): the caller may still
 * read it, but must keep it. */
void *mcpauth__rcu_swap(mcpauth_rcu *r, void *next, int *reclaim);
/* The current pointer, for the writer side only. */
void *mcpauth__rcu_peek(mcpauth_rcu *r);

/* For tests: read sections open now, in both phases, and how readers order
 * their entry (1: the writer's membarrier, 0: a fence on each entry). */
long mcpauth__rcu_readers(mcpauth_rcu *r);
int mcpauth__rcu_asymmetric(void);
/* For tests, before any rcu is used: order entries by fences, as on a
 * kernel without membarrier. */
void mcpauth__rcu_use_fences(void);
/* For tests, with no swap running: the next n barriers fail, as when a
 * seccomp filter refuses membarrier. */
void mcpauth__rcu_fail_barriers(int n);

#endif
