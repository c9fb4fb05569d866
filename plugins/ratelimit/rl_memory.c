/*
 * rl_memory.c: the in-memory limiter backend.
 *
 * Keys are spread over up to 64 shards by a keyed SipHash (so that nobody
 * can aim many addresses at one chain; rl_siphash.h, the same function as
 * libsodium's crypto_shorthash, inlined); each shard has its own mutex, a
 * chained hash table of uint32 indices and a slab of at most `limit` entries
 * that grows by doubling and is never shrunk: in the steady state a request
 * allocates nothing.
 *
 * A full shard evicts before it inserts. Entries sit on one of three LRU
 * lists by what losing them would cost: RATE (only a rate counter), FAILING
 * (failed attempts inside the window) and LOCKED (an active lockout, kept in
 * the order the lockouts began, so the tail is the one that ends first).
 * Eviction takes the first list tail whose state has run out (forgetting it
 * changes nothing), else the tail of RATE, then FAILING, and only when a
 * shard holds nothing but lockouts, the lockout that ends soonest.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "rl_backend.h"
#include "rl_siphash.h"

#define RL_NIL UINT32_MAX
#define RL_SHARDS_MAX 64
/* Small tables are not cut into tiny shards: a shard of one entry would
 * have to evict a lockout for any newcomer that hashes to it. */
#define RL_SHARD_MIN_KEYS 256
/* Entries live in chunks that never move once allocated (see rl_at). */
#define RL_CHUNK_BITS 8
#define RL_CHUNK (1u << RL_CHUNK_BITS)
/* Steps a lookup without the shard lock takes before it gives up. */
#define RL_PEEK_MAX 16
#define RL_SPINS 64
#define RL_MAX_TRACKED_LIMIT (1u << 30)

enum { RL_LIST_RATE, RL_LIST_FAILING, RL_LIST_LOCKED, RL_LIST_COUNT };

/*
 * Who may touch what. The shard lock guards the table's shape: the hash
 * chains, the lists and which key an entry holds. An entry's own lock
 * guards its state (tat to locked_until). Writing key, list or tick takes
 * both (shard lock first), so holding either one is enough to read them.
 *
 * Performance: a request for a client already tracked, whose entry needs
 * no move on its list (rl_touch), takes only the entry's lock: it finds the
 * entry without the shard lock (rl_peek) and checks the key under the
 * entry's lock. With two threads serving the same clients, the shard
 * mutex's line went from core to core on about half the requests, on top
 * of the entry's own (docs/performance.md, round 8).
 */
typedef struct rl_entry {
    atomic_uchar lock;       /* the entry lock: 0 free, 1 held */
    uint8_t list;
    uint16_t tick;           /* rl_tick() when last put at its list's front */
    _Atomic uint32_t check;  /* the hash's top half, for rl_peek */
    _Atomic uint32_t hnext;  /* next entry in the hash chain */
    uint32_t prev, next;     /* neighbours on the entry's list */
    uint32_t rpm;
    uint32_t fails;
    int64_t tat;             /* GCRA state, see rl_gcra.h */
    int64_t fail_start_ms;   /* first failure of the current window */
    int64_t locked_until_ms; /* 0: not locked */
    rl_key key;
} rl_entry;

typedef struct rl_shard {
    /* Read by every lookup, written only when a chunk is added: kept off
     * the line the mutex is on. */
    _Alignas(64) rl_entry *_Atomic *chunks; /* limit / RL_CHUNK, rounded up */
    _Atomic uint32_t *buckets;
    uint32_t mask;
    _Alignas(64) pthread_mutex_t lock;
    uint32_t used, limit;
    uint32_t head[RL_LIST_COUNT], tail[RL_LIST_COUNT];
} rl_shard;

typedef struct rl_memory {
    rl_shard *shards;
    uint32_t nshards; /* a power of two */
    rl_lockout_rule rule;
    rl_siphash_seed seed; /* per instance, from randombytes */
} rl_memory;

static uint32_t rl_shard_count(size_t max_tracked)
{
    uint32_t n = 1;
    while (n < RL_SHARDS_MAX && (size_t)n * 2 * RL_SHARD_MIN_KEYS <= max_tracked)
        n *= 2;
    return n;
}

static uint32_t rl_pow2_at_least(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p *= 2;
    return p;
}

/* The shard's share of max_tracked: the first (max % n) shards get one more,
 * so the shares add up to exactly max_tracked. */
static uint32_t rl_shard_limit(size_t max_tracked, uint32_t n, uint32_t i)
{
    return (uint32_t)(max_tracked / n + (i < max_tracked % n ? 1 : 0));
}

static uint32_t rl_chunk_count(uint32_t limit)
{
    return (limit + RL_CHUNK - 1) / RL_CHUNK;
}

/* kind, len and the used bytes (the rest is zero padding), hashed as
 * crypto_shorthash would, without its cost per call (rl_siphash.h). */
static uint64_t rl_hash(const rl_memory *m, const rl_key *k)
{
    return rl_siphash_key(&m->seed, k);
}

/* The shard comes from the top half's low bits, the bucket from the bottom
 * half and the check from the whole top half. */
static rl_shard *rl_shard_of(rl_memory *m, uint64_t h)
{
    return &m->shards[(h >> 32) & (m->nshards - 1)];
}

static uint32_t rl_check_of(uint64_t h)
{
    return (uint32_t)(h >> 32);
}

/* Entry i. Chunks are never moved or freed before the backend is, so an
 * index read from a chain without the shard lock always names live memory
 * (a slab grown by realloc would not); the acquire pairs with the release
 * that published the chunk. */
static rl_entry *rl_at(rl_shard *sh, uint32_t i)
{
    rl_entry *c = atomic_load_explicit(&sh->chunks[i >> RL_CHUNK_BITS],
                                       memory_order_acquire);
    return &c[i & (RL_CHUNK - 1)];
}

/* ---- entry locks ---- */

/* Held for a few dozen instructions at a time; yield now and then in case
 * the holder's thread was preempted. */
static void rl_elock(rl_entry *e)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(&e->lock, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&e->lock, memory_order_relaxed))
            if (++spins % RL_SPINS == 0)
                sched_yield();
    }
}

static void rl_eunlock(rl_entry *e)
{
    atomic_store_explicit(&e->lock, 0, memory_order_release);
}

/* ---- lists (shard lock) ---- */

static void rl_list_unlink(rl_shard *sh, uint32_t i)
{
    rl_entry *e = rl_at(sh, i);
    if (e->prev != RL_NIL)
        rl_at(sh, e->prev)->next = e->next;
    else
        sh->head[e->list] = e->next;
    if (e->next != RL_NIL)
        rl_at(sh, e->next)->prev = e->prev;
    else
        sh->tail[e->list] = e->prev;
}

/* Also writes e->list: the caller holds entry i's lock too. */
static void rl_list_push(rl_shard *sh, uint32_t i, uint8_t list)
{
    rl_entry *e = rl_at(sh, i);
    e->list = list;
    e->prev = RL_NIL;
    e->next = sh->head[list];
    if (e->next != RL_NIL)
        rl_at(sh, e->next)->prev = i;
    else
        sh->tail[list] = i;
    sh->head[list] = i;
}

static int rl_failures_live(const rl_memory *m, const rl_entry *e,
                            int64_t now_ms)
{
    return e->fails > 0 &&
           rl_sat_sub(now_ms, e->fail_start_ms) < m->rule.window_ms;
}

static uint8_t rl_list_for(const rl_memory *m, const rl_entry *e,
                           int64_t now_ms)
{
    if (e->locked_until_ms > now_ms)
        return RL_LIST_LOCKED;
    return rl_failures_live(m, e, now_ms) ? RL_LIST_FAILING : RL_LIST_RATE;
}

/* Time in steps of 64 ms, wrapping after 70 minutes: how recently an entry
 * was put at the front of its list. */
static uint16_t rl_tick(int64_t now_ms)
{
    return (uint16_t)((uint64_t)now_ms >> 6);
}

/* Whether marking e as used at now_ms leaves it where it is: an entry
 * already put at the front in the current 64 ms step stays there, and
 * lockouts keep their place (ordered by start). Needs either lock.
 * Performance: moving an entry writes its neighbours and the shard's list
 * heads; with two threads serving the same clients, those cache lines went
 * back and forth between the cores on every request: `full` with 2 threads
 * reached 1.41 to 1.55 times its 1-thread rate, and 1.56 to 2.06 times
 * with this rule (docs/performance.md, round 6). A client still sending is
 * at most one step behind its place, so a flood evicts it only if it
 * cycles a whole shard within 64 to 128 ms (at the default max_tracked,
 * several hundred thousand new addresses a second). A tick that wraps
 * round to the same value only skips one move. */
static int rl_stays_on(const rl_entry *e, uint8_t want, int64_t now_ms)
{
    return want == e->list &&
           (want == RL_LIST_LOCKED || e->tick == rl_tick(now_ms));
}

static int rl_stays(const rl_memory *m, const rl_entry *e, int64_t now_ms)
{
    return rl_stays_on(e, rl_list_for(m, e, now_ms), now_ms);
}

/* Mark entry i as just used: front of its list, or onto the list its state
 * now calls for. Both locks held. */
static void rl_touch(const rl_memory *m, rl_shard *sh, uint32_t i,
                     int64_t now_ms)
{
    rl_entry *e = rl_at(sh, i);
    uint8_t want = rl_list_for(m, e, now_ms);
    if (rl_stays_on(e, want, now_ms))
        return;
    rl_list_unlink(sh, i);
    rl_list_push(sh, i, want);
    e->tick = rl_tick(now_ms);
}

/* Forgetting an idle entry changes no future decision. Entry lock held. */
static int rl_entry_idle(const rl_memory *m, const rl_entry *e, int64_t now_ms)
{
    rl_gcra_state st = { e->tat, e->rpm };
    return e->locked_until_ms <= now_ms && !rl_failures_live(m, e, now_ms) &&
           rl_gcra_idle(&st, now_ms);
}

/* ---- hash table ---- */

static uint32_t rl_load_link(_Atomic uint32_t *link)
{
    return atomic_load_explicit(link, memory_order_acquire);
}

/* Entry for k, with the shard lock held (keys change only under it). */
static uint32_t rl_find(rl_shard *sh, uint64_t h, const rl_key *k)
{
    uint32_t i = rl_load_link(&sh->buckets[h & sh->mask]);
    while (i != RL_NIL && memcmp(&rl_at(sh, i)->key, k, sizeof(*k)) != 0)
        i = rl_load_link(&rl_at(sh, i)->hnext);
    return i;
}

/* The entry whose check matches h, found without the shard lock, or RL_NIL.
 * A chain changed during the walk can make it miss, or stop on an entry
 * that has since taken another key: the caller compares the key under the
 * entry's lock, and goes to the shard lock when it does not match. The
 * walk is bounded because an entry moved to another chain mid-walk could
 * lead it round in circles. */
static uint32_t rl_peek(rl_shard *sh, uint64_t h)
{
    uint32_t check = rl_check_of(h);
    uint32_t i = rl_load_link(&sh->buckets[h & sh->mask]);
    for (int n = 0; i != RL_NIL && n < RL_PEEK_MAX; n++) {
        rl_entry *e = rl_at(sh, i);
        if (atomic_load_explicit(&e->check, memory_order_relaxed) == check)
            return i;
        i = rl_load_link(&e->hnext);
    }
    return RL_NIL;
}

/* The release stores pair with rl_load_link: a reader that reaches an
 * entry through a link sees the entry's chunk and fields as linked. */
static void rl_store_link(_Atomic uint32_t *link, uint32_t i)
{
    atomic_store_explicit(link, i, memory_order_release);
}

static void rl_unchain(rl_memory *m, rl_shard *sh, uint32_t victim)
{
    rl_entry *v = rl_at(sh, victim);
    _Atomic uint32_t *link = &sh->buckets[rl_hash(m, &v->key) & sh->mask];
    uint32_t i;
    while ((i = rl_load_link(link)) != victim)
        link = &rl_at(sh, i)->hnext;
    rl_store_link(link, rl_load_link(&v->hnext));
}

/* A list tail that may go, locked; RL_NIL when every list is empty. */
static uint32_t rl_pick_victim(const rl_memory *m, rl_shard *sh,
                               int64_t now_ms)
{
    for (int l = 0; l < RL_LIST_COUNT; l++) {
        uint32_t t = sh->tail[l];
        if (t == RL_NIL)
            continue;
        rl_elock(rl_at(sh, t));
        if (rl_entry_idle(m, rl_at(sh, t), now_ms))
            return t;
        rl_eunlock(rl_at(sh, t));
    }
    for (int l = 0; l < RL_LIST_COUNT; l++)
        if (sh->tail[l] != RL_NIL) {
            rl_elock(rl_at(sh, sh->tail[l]));
            return sh->tail[l];
        }
    return RL_NIL;
}

/* Room for entry sh->used: its chunk, allocated when it is the first of
 * one and published for rl_at. 0, or -1 when out of memory. */
static int rl_chunk_ready(rl_shard *sh)
{
    uint32_t c = sh->used >> RL_CHUNK_BITS;
    if (sh->used & (RL_CHUNK - 1))
        return 0;
    uint32_t n = sh->limit - sh->used < RL_CHUNK ? sh->limit - sh->used : RL_CHUNK;
    rl_entry *chunk = calloc(n, sizeof(*chunk));
    if (!chunk)
        return -1;
    atomic_store_explicit(&sh->chunks[c], chunk, memory_order_release);
    return 0;
}

/* A free slot, locked: a new one while under the limit, else an evicted
 * one, out of its chain and off its list. */
static uint32_t rl_slot(rl_memory *m, rl_shard *sh, int64_t now_ms)
{
    if (sh->used < sh->limit) {
        if (rl_chunk_ready(sh) != 0)
            return RL_NIL;
        rl_elock(rl_at(sh, sh->used));
        return sh->used++;
    }
    uint32_t v = rl_pick_victim(m, sh, now_ms);
    if (v != RL_NIL) {
        rl_unchain(m, sh, v);
        rl_list_unlink(sh, v);
    }
    return v;
}

/* A new entry for k (absent from the table), possibly by eviction, returned
 * locked; RL_NIL when out of memory. */
static uint32_t rl_insert(rl_memory *m, rl_shard *sh, uint64_t h,
                          const rl_key *k, int64_t now_ms)
{
    uint32_t i = rl_slot(m, sh, now_ms);
    if (i == RL_NIL)
        return RL_NIL;
    rl_entry *e = rl_at(sh, i);
    e->key = *k;
    e->tat = RL_TAT_NONE;
    e->rpm = e->fails = 0;
    e->fail_start_ms = e->locked_until_ms = 0;
    atomic_store_explicit(&e->check, rl_check_of(h), memory_order_relaxed);
    /* Release, like every link: a reader still holding i from its old
     * chain may follow this one without passing the bucket's store. */
    rl_store_link(&e->hnext, rl_load_link(&sh->buckets[h & sh->mask]));
    rl_store_link(&sh->buckets[h & sh->mask], i);
    rl_list_push(sh, i, RL_LIST_RATE);
    e->tick = rl_tick(now_ms);
    return i;
}

/* ---- the backend functions ---- */

/* GCRA for the entry's state (none when e is NULL) at now_ms: r as
 * rl_gcra_take returns it, with *g the state after an allowed request. */
static int rl_decide(const rl_entry *e, const rl_rate *rate, int64_t now_ms,
                     rl_gcra_state *g, rl_take_result *out)
{
    *g = (rl_gcra_state){ RL_TAT_NONE, 0 };
    if (e)
        *g = (rl_gcra_state){ e->tat, e->rpm };
    int r = rl_gcra_take(g, rate, now_ms, 0, &out->wait_ms);
    out->allowed = r == 1;
    return r;
}

/* Store an allowed request's state g in entry i and mark it used; both
 * locks held. */
static void rl_spend(const rl_memory *m, rl_shard *sh, uint32_t i,
                     const rl_gcra_state *g, int64_t now_ms)
{
    rl_at(sh, i)->tat = g->tat;
    rl_at(sh, i)->rpm = g->rpm;
    rl_touch(m, sh, i, now_ms);
}

/* take for key k, found at i (RL_NIL: absent), with the shard lock and
 * entry i's lock held; *i is the entry locked on return. */
static mcpauth_status rl_take_held(rl_memory *m, rl_shard *sh, uint64_t h,
                                   const rl_key *k, uint32_t *i,
                                   const rl_rate *rate, int64_t now_ms,
                                   int dry, rl_take_result *out)
{
    rl_gcra_state g;
    int r = rl_decide(*i != RL_NIL ? rl_at(sh, *i) : NULL, rate, now_ms, &g, out);
    if (r < 0)
        return MCPAUTH_ERANGE;
    if (r == 0 || dry)
        return MCPAUTH_OK;
    if (*i == RL_NIL && (*i = rl_insert(m, sh, h, k, now_ms)) == RL_NIL)
        return MCPAUTH_ENOMEM;
    rl_spend(m, sh, *i, &g, now_ms);
    return MCPAUTH_OK;
}

/* lookup_take's work on an entry found for its key, under the entry's lock
 * only: 1 when done, 0 when the allowed request would move the entry on its
 * list (nothing was changed; *g is the state to store with the shard lock). */
static int rl_fast_held(const rl_memory *m, rl_entry *e, const rl_rate *rate,
                        int64_t now_ms, int dry, int64_t *until_ms,
                        rl_take_result *out, rl_gcra_state *g,
                        mcpauth_status *st)
{
    *st = MCPAUTH_OK;
    if (until_ms && e->locked_until_ms > now_ms) {
        *until_ms = e->locked_until_ms;
        return 1;
    }
    if (!rate)
        return 1;
    int r = rl_decide(e, rate, now_ms, g, out);
    if (r < 0)
        *st = MCPAUTH_ERANGE;
    if (r != 1 || dry)
        return 1;
    if (!rl_stays(m, e, now_ms))
        return 0;
    e->tat = g->tat;
    e->rpm = g->rpm;
    return 1;
}

/* The common case, found without the shard lock: 1 when decided, 0 when
 * the caller must take the shard lock itself (key not found, or the entry
 * must move on its list while another thread holds the shard). When the
 * entry must move, the shard lock is tried with the entry's held: trying
 * never waits, so the order shard-then-entry that waiting callers keep
 * cannot deadlock. A client seen less often than every 64 ms needs the
 * move on almost every request, and would otherwise pay for both paths. */
static int rl_fast(rl_memory *m, rl_shard *sh, uint64_t h, const rl_key *k,
                   const rl_rate *rate, int64_t now_ms, int dry,
                   int64_t *until_ms, rl_take_result *out, mcpauth_status *st)
{
    uint32_t i = rl_peek(sh, h);
    rl_gcra_state g;
    int done = 0;
    if (i == RL_NIL)
        return 0;
    rl_entry *e = rl_at(sh, i);
    rl_elock(e);
    if (memcmp(&e->key, k, sizeof(*k)) == 0) {
        done = rl_fast_held(m, e, rate, now_ms, dry, until_ms, out, &g, st);
        if (!done && pthread_mutex_trylock(&sh->lock) == 0) {
            rl_spend(m, sh, i, &g, now_ms);
            pthread_mutex_unlock(&sh->lock);
            done = 1;
        }
    }
    rl_eunlock(e);
    return done;
}

/* Lock the shard and find k, locking its entry; the pair rl_unlock undoes. */
static uint32_t rl_lock_find(rl_shard *sh, uint64_t h, const rl_key *k)
{
    pthread_mutex_lock(&sh->lock);
    uint32_t i = rl_find(sh, h, k);
    if (i != RL_NIL)
        rl_elock(rl_at(sh, i));
    return i;
}

static void rl_unlock(rl_shard *sh, uint32_t i)
{
    if (i != RL_NIL)
        rl_eunlock(rl_at(sh, i));
    pthread_mutex_unlock(&sh->lock);
}

/* locked_until then take (when rate is not NULL) under one hash and lookup;
 * until_ms NULL for take alone. */
static mcpauth_status rl_mem_lookup_take(rl_memory *m, const rl_key *k,
                                         const rl_rate *rate, int64_t now_ms,
                                         int dry, int64_t *until_ms,
                                         rl_take_result *out)
{
    uint64_t h = rl_hash(m, k);
    rl_shard *sh = rl_shard_of(m, h);
    mcpauth_status st = MCPAUTH_OK;
    if (until_ms)
        *until_ms = 0;
    out->allowed = 1;
    out->wait_ms = 0;
    if (rl_fast(m, sh, h, k, rate, now_ms, dry, until_ms, out, &st))
        return st;
    uint32_t i = rl_lock_find(sh, h, k);
    if (until_ms && i != RL_NIL && rl_at(sh, i)->locked_until_ms > now_ms)
        *until_ms = rl_at(sh, i)->locked_until_ms;
    else if (rate)
        st = rl_take_held(m, sh, h, k, &i, rate, now_ms, dry, out);
    rl_unlock(sh, i);
    return st;
}

static mcpauth_status rl_mem_take(void *self, const rl_key *key,
                                  const rl_rate *rate, int64_t now_ms, int dry,
                                  rl_take_result *out)
{
    return rl_mem_lookup_take(self, key, rate, now_ms, dry, NULL, out);
}

/* Apply one failure to e at now_ms; returns 1 when it starts a lockout. */
static int rl_count_failure(const rl_lockout_rule *rule, rl_entry *e,
                            int64_t now_ms)
{
    if (e->locked_until_ms > now_ms)
        return 0;
    e->locked_until_ms = 0;
    if (e->fails > 0 && rl_sat_sub(now_ms, e->fail_start_ms) >= rule->window_ms)
        e->fails = 0;
    if (e->fails == 0)
        e->fail_start_ms = now_ms;
    if (++e->fails < rule->max_failures)
        return 0;
    e->fails = 0;
    e->locked_until_ms = rl_sat_add(now_ms, rule->lockout_ms);
    return 1;
}

/* Failures come with denials, far rarer than requests: always under the
 * shard lock, since a failure moves the entry to another list. */
static mcpauth_status rl_mem_record_failure(void *self, const rl_key *ip,
                                            int64_t now_ms, int *locked)
{
    rl_memory *m = self;
    *locked = 0;
    if (m->rule.max_failures == 0)
        return MCPAUTH_OK;
    uint64_t h = rl_hash(m, ip);
    rl_shard *sh = rl_shard_of(m, h);
    mcpauth_status st = MCPAUTH_OK;
    uint32_t i = rl_lock_find(sh, h, ip);
    if (i == RL_NIL && (i = rl_insert(m, sh, h, ip, now_ms)) == RL_NIL) {
        st = MCPAUTH_ENOMEM;
        goto out;
    }
    *locked = rl_count_failure(&m->rule, rl_at(sh, i), now_ms);
    rl_touch(m, sh, i, now_ms);
out:
    rl_unlock(sh, i);
    return st;
}

static mcpauth_status rl_mem_locked_until(void *self, const rl_key *ip,
                                          int64_t now_ms, int64_t *until_ms)
{
    rl_take_result unused;
    return rl_mem_lookup_take(self, ip, NULL, now_ms, 1, until_ms, &unused);
}

static mcpauth_status rl_mem_locked_take(void *self, const rl_key *ip,
                                         const rl_rate *rate, int64_t now_ms,
                                         int dry, int64_t *until_ms,
                                         rl_take_result *out)
{
    return rl_mem_lookup_take(self, ip, rate, now_ms, dry, until_ms, out);
}

static size_t rl_mem_tracked(void *self)
{
    rl_memory *m = self;
    size_t n = 0;
    for (uint32_t s = 0; s < m->nshards; s++) {
        pthread_mutex_lock(&m->shards[s].lock);
        n += m->shards[s].used;
        pthread_mutex_unlock(&m->shards[s].lock);
    }
    return n;
}

static void rl_shard_free(rl_shard *sh)
{
    pthread_mutex_destroy(&sh->lock);
    for (uint32_t c = 0; sh->chunks && c < rl_chunk_count(sh->limit); c++)
        free(atomic_load_explicit(&sh->chunks[c], memory_order_relaxed));
    free(sh->chunks);
    free(sh->buckets);
}

static void rl_mem_destroy(void *self)
{
    rl_memory *m = self;
    if (!m)
        return;
    for (uint32_t s = 0; m->shards && s < m->nshards; s++)
        rl_shard_free(&m->shards[s]);
    free(m->shards);
    sodium_memzero(&m->seed, sizeof(m->seed));
    free(m);
}

static mcpauth_status rl_shard_init(rl_shard *sh, uint32_t limit)
{
    memset(sh, 0, sizeof(*sh));
    pthread_mutex_init(&sh->lock, NULL);
    sh->limit = limit;
    sh->mask = rl_pow2_at_least(limit) - 1;
    sh->chunks = calloc(rl_chunk_count(limit), sizeof(*sh->chunks));
    sh->buckets = malloc(((size_t)sh->mask + 1) * sizeof(*sh->buckets));
    if (!sh->chunks || !sh->buckets)
        return MCPAUTH_ENOMEM;
    for (uint32_t b = 0; b <= sh->mask; b++)
        atomic_init(&sh->buckets[b], RL_NIL);
    for (int l = 0; l < RL_LIST_COUNT; l++)
        sh->head[l] = sh->tail[l] = RL_NIL;
    return MCPAUTH_OK;
}

_Static_assert(RL_SIPHASH_SEEDBYTES == crypto_shorthash_KEYBYTES,
               "rl_siphash.h takes crypto_shorthash's seed");

/* A fresh secret seed for this instance's hash. */
static void rl_seed_new(rl_siphash_seed *out)
{
    uint8_t seed[RL_SIPHASH_SEEDBYTES];
    randombytes_buf(seed, sizeof(seed));
    rl_siphash_seed_init(out, seed);
    sodium_memzero(seed, sizeof(seed));
}

mcpauth_status rl_memory_backend_new(rl_backend *out, size_t max_tracked,
                                     const rl_lockout_rule *rule)
{
    mcpauth_status st = MCPAUTH_ENOMEM;
    rl_memory *m = NULL;
    if (max_tracked == 0 || max_tracked > RL_MAX_TRACKED_LIMIT)
        return MCPAUTH_ERANGE;
    if (!(m = calloc(1, sizeof(*m))))
        goto out;
    m->rule = *rule;
    m->nshards = rl_shard_count(max_tracked);
    rl_seed_new(&m->seed);
    m->shards = aligned_alloc(_Alignof(rl_shard), m->nshards * sizeof(rl_shard));
    if (!m->shards)
        goto out;
    for (uint32_t s = 0; s < m->nshards; s++) {
        if (rl_shard_init(&m->shards[s], rl_shard_limit(max_tracked, m->nshards, s)) != MCPAUTH_OK) {
            m->nshards = s + 1; /* free what was built, this one included */
            goto out;
        }
    }
    *out = (rl_backend){ m, rl_mem_take, rl_mem_record_failure,
                         rl_mem_locked_until, rl_mem_locked_take,
                         rl_mem_tracked, rl_mem_destroy };
    m = NULL;
    st = MCPAUTH_OK;
out:
    rl_mem_destroy(m);
    return st;
}

size_t rl_memory_bytes_per_key(size_t max_tracked)
{
    uint32_t n = rl_shard_count(max_tracked);
    size_t total = (size_t)n * sizeof(rl_shard) + max_tracked * sizeof(rl_entry);
    for (uint32_t s = 0; s < n; s++) {
        uint32_t limit = rl_shard_limit(max_tracked, n, s);
        total += (size_t)rl_pow2_at_least(limit) * sizeof(uint32_t) +
                 rl_chunk_count(limit) * sizeof(rl_entry *);
    }
    return (total + max_tracked - 1) / max_tracked;
}
