/*
 * rcu.h: read-mostly publication of a pointer with safe reclamation.
 *
 * Readers (every mcpauth_check) pay two atomic adds on a counter slot that is
 * mostly their thread's own; writers (reloads) publish a new pointer, then
 * wait until no reader can still hold the old one. Readers never wait for a
 * writer, so a slow reload cannot stall a request.
 */
#ifndef MCPAUTH_RCU_H
#define MCPAUTH_RCU_H

#include <pthread.h>
#include <stdatomic.h>

#define MCPAUTH_RCU_SLOTS 32

/* Each thread counts itself in its own slot. The structs holding an rcu
 * come from malloc, which aligns to 16 bytes, not to a 64-byte cache line:
 * with the counters at the start of a 64-byte slot, slot 0's counter shared
 * a line with ptr and epoch, which every reader reads, so one thread's
 * checks kept evicting that line from the other's cache. A line of padding
 * on each side keeps every slot's counters off every other hot field's
 * line, whatever the alignment. */
typedef struct mcpauth_rcu_slot {
    char before[64];
    atomic_long count[2];
    char after[64 - 2 * sizeof(atomic_long)];
} mcpauth_rcu_slot;

typedef struct mcpauth_rcu {
    _Atomic(void *) ptr;
    atomic_uint epoch;
    pthread_mutex_t writer;
    mcpauth_rcu_slot slots[MCPAUTH_RCU_SLOTS];
} mcpauth_rcu;

/* A reader's ticket: pass it back to mcpauth__rcu_unlock. */
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
 * returns the previous pointer, now safe to free. */
void *mcpauth__rcu_swap(mcpauth_rcu *r, void *next);
/* The current pointer, for the writer side only. */
void *mcpauth__rcu_peek(mcpauth_rcu *r);

#endif
