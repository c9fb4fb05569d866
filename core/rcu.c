/* rcu.c: see rcu.h. A two-phase counter scheme: a reader counts itself in
 * the current phase of its slot; a writer flips the phase after publishing,
 * then waits for the old phase's counters to drain.
 *
 * Performance: a reader that owns its slot enters with a plain store and
 * leaves with another. A locked add on entry and one on exit, for the
 * stack's section and the key store's, were four locked instructions a
 * check, ~4% of a `full` decision's cycles (docs/performance.md, round 10).
 * Entering still needs the reader's count to be seen before it reads the
 * pointer, or a writer could miss it. With membarrier(2), the writer makes
 * every running thread of the process pass a full barrier after it flips
 * the phase, so the reader needs none of its own: either its count was
 * stored before that barrier (the writer sees it and waits), or everything
 * it does after the store comes after the flip (it sees the new epoch and
 * enters again in the new phase). This is liburcu's "memb" flavour. Where
 * membarrier is missing (old kernels, seccomp), each entry takes a locked
 * add, as before; leaving is still a plain store.
 */
#include "rcu.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Performance: every check reads this. The library's default TLS model
 * calls __tls_get_addr for each access; initial-exec is one load off the
 * thread pointer. It is fine for a library linked by the program (as
 * libmcpauth is), and the 4 bytes fit glibc's reserve even if it is
 * dlopened. ~0u: no slot yet. */
static _Thread_local unsigned rcu_thread_slot
    __attribute__((tls_model("initial-exec"))) = ~0u;

/* Which owned slots are taken, by threads alive now: a thread's slot is
 * given back when it exits (rcu_slot_free), so a server that starts a
 * thread per connection keeps finding free ones. */
static pthread_mutex_t rcu_slot_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char rcu_slot_taken[MCPAUTH_RCU_SHARED];
static pthread_key_t rcu_slot_key;
static int rcu_slot_key_ok;
static int rcu_asym; /* 1: writers use membarrier, readers no fence */
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;

static long rcu_membarrier(int cmd)
{
    return syscall(__NR_membarrier, cmd, 0, 0);
}

/* A thread's exit: its slot is free again. Its counts stay in the slot
 * (a verdict it took may still be held elsewhere), and the next owner
 * counts on from them; the mutex orders this owner's last stores before
 * the next one's first. */
static void rcu_slot_free(void *arg)
{
    unsigned slot = (unsigned)(uintptr_t)arg - 1;
    pthread_mutex_lock(&rcu_slot_mu);
    rcu_slot_taken[slot] = 0;
    pthread_mutex_unlock(&rcu_slot_mu);
    /* Checks run by later destructors of this thread share the slot. */
    rcu_thread_slot = MCPAUTH_RCU_SHARED;
}

/* In a child after fork only the forking thread lives on: the other
 * threads' slots are free again. Their counts stay, as at any exit: a
 * section another thread was in at the fork never ends in the child, so
 * a reload there would wait for ever (as before this scheme); fork while
 * no check runs (docs/embedding.md). The table is held across the fork so
 * that the child's copy is whole. */
static void rcu_fork_prepare(void)
{
    pthread_mutex_lock(&rcu_slot_mu);
}

static void rcu_fork_parent(void)
{
    pthread_mutex_unlock(&rcu_slot_mu);
}

static void rcu_fork_child(void)
{
    for (unsigned i = 0; i < MCPAUTH_RCU_SHARED; i++)
        rcu_slot_taken[i] = i == rcu_thread_slot;
    pthread_mutex_unlock(&rcu_slot_mu);
}

static void rcu_setup(void)
{
    rcu_slot_key_ok = pthread_key_create(&rcu_slot_key, rcu_slot_free) == 0;
    pthread_atfork(rcu_fork_prepare, rcu_fork_parent, rcu_fork_child);
    long cmds = rcu_membarrier(MEMBARRIER_CMD_QUERY);
    rcu_asym = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
               rcu_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

/* The key's destructor must not outlive the library's code. */
__attribute__((destructor)) static void rcu_teardown(void)
{
    pthread_mutex_lock(&rcu_slot_mu);
    int had = rcu_slot_key_ok;
    rcu_slot_key_ok = 0; /* threads that claim a slot now share one */
    pthread_mutex_unlock(&rcu_slot_mu);
    if (had)
        pthread_key_delete(rcu_slot_key);
}

int mcpauth__rcu_asymmetric(void)
{
    pthread_once(&rcu_once, rcu_setup);
    return rcu_asym;
}

void mcpauth__rcu_use_fences(void)
{
    pthread_once(&rcu_once, rcu_setup);
    rcu_asym = 0;
}

/* A free owned slot for this thread, or the shared one when all are
 * taken (or its exit could not be noticed to give one back). */
__attribute__((noinline, cold)) static unsigned rcu_slot_claim(void)
{
    unsigned slot = MCPAUTH_RCU_SHARED;
    pthread_once(&rcu_once, rcu_setup);
    pthread_mutex_lock(&rcu_slot_mu);
    for (unsigned i = 0; rcu_slot_key_ok && i < MCPAUTH_RCU_SHARED; i++) {
        if (!rcu_slot_taken[i] &&
            pthread_setspecific(rcu_slot_key, (void *)(uintptr_t)(i + 1)) == 0) {
            rcu_slot_taken[i] = 1;
            slot = i;
            break;
        }
    }
    pthread_mutex_unlock(&rcu_slot_mu);
    return slot;
}

static unsigned rcu_slot_index(void)
{
    if (__builtin_expect(rcu_thread_slot == ~0u, 0))
        rcu_thread_slot = rcu_slot_claim();
    return rcu_thread_slot;
}

void mcpauth__rcu_init(mcpauth_rcu *r, void *initial)
{
    pthread_once(&rcu_once, rcu_setup);
    atomic_init(&r->ptr, initial);
    atomic_init(&r->epoch, 0);
    pthread_mutex_init(&r->writer, NULL);
    r->unwaited = 0;
    for (unsigned i = 0; i < MCPAUTH_RCU_SLOTS; i++) {
        for (int p = 0; p < 2; p++) {
            atomic_init(&r->slots[i].own[p], 0);
            atomic_init(&r->slots[i].foreign[p], 0);
        }
    }
}

void mcpauth__rcu_destroy(mcpauth_rcu *r)
{
    pthread_mutex_destroy(&r->writer);
}

/* Add d to a counter only this thread writes: a load and a store, no
 * locked instruction. Release, so that what the section read comes before
 * its end for a writer that sees the count drop. Unsigned: counts wrap
 * (foreign releases only ever add) and only their difference is read. */
static void rcu_own_add(atomic_ulong *c, unsigned long d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_release);
}

/* Count this reader in the phase of epoch e, in slot sl; 1 when the epoch
 * is still e once counted, so a writer that flipped in between cannot have
 * missed the count. Else the count is undone and 0 returned. The count
 * must be seen before the epoch is read again: with membarrier a compiler
 * barrier is enough; otherwise a locked add (which the shared slot needs
 * anyway, other threads counting there too) orders the two. */
static int rcu_enter(mcpauth_rcu *r, mcpauth_rcu_slot *sl, unsigned e, int shared)
{
    atomic_ulong *c = &sl->own[e & 1];
    if (shared || !rcu_asym) {
        atomic_fetch_add(c, 1);
    } else {
        rcu_own_add(c, 1);
        atomic_signal_fence(memory_order_seq_cst);
    }
    /* seq_cst, like the add and the writer's flip and count loads: with
     * acquire loads C11 (and ARM's LDAPR, POWER) would let the reader
     * and the writer both read the other's old value. A plain load on
     * x86 either way. */
    if (atomic_load(&r->epoch) == e)
        return 1;
    if (shared)
        atomic_fetch_sub_explicit(c, 1, memory_order_release);
    else
        rcu_own_add(c, (unsigned long)-1);
    return 0;
}

void *mcpauth__rcu_lock(mcpauth_rcu *r, mcpauth_rcu_ticket *t)
{
    unsigned slot = rcu_slot_index();
    mcpauth_rcu_slot *sl = &r->slots[slot];
    int shared = slot == MCPAUTH_RCU_SHARED;
    unsigned e;
    do
        e = atomic_load_explicit(&r->epoch, memory_order_relaxed);
    while (!rcu_enter(r, sl, e, shared));
    t->slot = slot;
    t->phase = e & 1;
    return atomic_load_explicit(&r->ptr, memory_order_acquire);
}

/* From the thread that owns the ticket's slot, a plain store; from any
 * other (a verdict released elsewhere, or after this thread gave its slot
 * back), an atomic add to the slot's foreign count, which its owner never
 * writes. */
void mcpauth__rcu_unlock(mcpauth_rcu *r, const mcpauth_rcu_ticket *t)
{
    mcpauth_rcu_slot *sl = &r->slots[t->slot];
    if (t->slot == MCPAUTH_RCU_SHARED)
        atomic_fetch_sub_explicit(&sl->own[t->phase], 1, memory_order_release);
    else if (t->slot == rcu_thread_slot)
        rcu_own_add(&sl->own[t->phase], (unsigned long)-1);
    else
        atomic_fetch_add_explicit(&sl->foreign[t->phase], 1, memory_order_release);
}

/* Readers still counted in one phase of slot sl. own is read first. For
 * the phase a writer waits on, every section that stays in it was counted
 * before the writer's barrier (a later count sees the new epoch and is
 * undone by its own thread), so own holds every section that a foreign
 * release read after it can subtract: the difference never falls below
 * the sections still open. */
static long rcu_slot_readers(mcpauth_rcu_slot *sl, unsigned phase)
{
    unsigned long own = atomic_load(&sl->own[phase]);
    return (long)(own - atomic_load(&sl->foreign[phase]));
}

static void rcu_wait_phase(mcpauth_rcu *r, unsigned phase)
{
    for (unsigned i = 0; i < MCPAUTH_RCU_SLOTS; i++)
        while (rcu_slot_readers(&r->slots[i], phase) != 0)
            sched_yield();
}

static int rcu_fail_barriers; /* tests: barriers to refuse (writer lock) */

/* Make every reader's count stored before the epoch flip visible here, or
 * have the reader see the flip: a full barrier on every running thread
 * of the process. Without membarrier, the readers' locked adds and the
 * flip's do that. 0, or -1 when no barrier could be had: membarrier was
 * registered, so this is a seccomp filter installed since (docs/
 * embedding.md), or the kernel out of memory. */
static int rcu_barrier(void)
{
    if (rcu_fail_barriers > 0) {
        rcu_fail_barriers--;
        return -1;
    }
    if (!rcu_asym)
        return 0;
    if (rcu_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return 0;
    return rcu_membarrier(MEMBARRIER_CMD_GLOBAL) == 0 ? 0 : -1;
}

/* Flip the phase and wait for the old one to drain; 0, or -1 (nothing
 * waited for) when no barrier could be had. */
static int rcu_flip_wait(mcpauth_rcu *r)
{
    unsigned e = atomic_fetch_add(&r->epoch, 1);
    if (rcu_barrier() != 0)
        return -1;
    rcu_wait_phase(r, e & 1);
    return 0;
}

/* Wait until no reader can hold a pointer published before this call.
 * After a failed barrier either phase may hold such readers, so two flips
 * are needed before anything is safe again. Writer lock held. */
static int rcu_synchronize(mcpauth_rcu *r)
{
    for (int flips = r->unwaited ? 2 : 1; flips > 0; flips--) {
        if (rcu_flip_wait(r) != 0) {
            r->unwaited = 1;
            return -1;
        }
    }
    r->unwaited = 0;
    return 0;
}

void *mcpauth__rcu_swap(mcpauth_rcu *r, void *next, int *reclaim)
{
    pthread_mutex_lock(&r->writer);
    void *prev = atomic_exchange(&r->ptr, next);
    *reclaim = rcu_synchronize(r) == 0;
    pthread_mutex_unlock(&r->writer);
    return prev;
}

void mcpauth__rcu_fail_barriers(int n)
{
    rcu_fail_barriers = n;
}

void *mcpauth__rcu_peek(mcpauth_rcu *r)
{
    return atomic_load(&r->ptr);
}

long mcpauth__rcu_readers(mcpauth_rcu *r)
{
    long n = 0;
    for (unsigned i = 0; i < MCPAUTH_RCU_SLOTS; i++)
        n += rcu_slot_readers(&r->slots[i], 0) + rcu_slot_readers(&r->slots[i], 1);
    return n;
}
