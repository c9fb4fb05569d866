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
#define RL_SLAB_MIN 16
#define RL_MAX_TRACKED_LIMIT (1u << 30)

enum { RL_LIST_RATE, RL_LIST_FAILING, RL_LIST_LOCKED, RL_LIST_COUNT };

typedef struct rl_entry {
    rl_key key;
    int64_t tat;             /* GCRA state, see rl_gcra.h */
    int64_t fail_start_ms;   /* first failure of the current window */
    int64_t locked_until_ms; /* 0: not locked */
    uint32_t rpm;
    uint32_t fails;
    uint32_t hnext;          /* next entry in the hash chain */
    uint32_t prev, next;     /* neighbours on the entry's list */
    uint8_t list;
    uint16_t tick;           /* rl_tick() when last put at its list's front */
} rl_entry;

typedef struct rl_shard {
    _Alignas(64) pthread_mutex_t lock; /* one cache line each: no false sharing */
    rl_entry *entries;
    uint32_t used, alloc, limit;
    uint32_t *buckets;
    uint32_t mask;
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

/* kind, len and the used bytes (the rest is zero padding), hashed as
 * crypto_shorthash would, without its cost per call (rl_siphash.h). */
static uint64_t rl_hash(const rl_memory *m, const rl_key *k)
{
    return rl_siphash_key(&m->seed, k);
}

static rl_shard *rl_shard_of(rl_memory *m, uint64_t h)
{
    return &m->shards[(h >> 32) & (m->nshards - 1)];
}

/* ---- lists ---- */

static void rl_list_unlink(rl_shard *sh, uint32_t i)
{
    rl_entry *e = &sh->entries[i];
    if (e->prev != RL_NIL)
        sh->entries[e->prev].next = e->next;
    else
        sh->head[e->list] = e->next;
    if (e->next != RL_NIL)
        sh->entries[e->next].prev = e->prev;
    else
        sh->tail[e->list] = e->prev;
}

static void rl_list_push(rl_shard *sh, uint32_t i, uint8_t list)
{
    rl_entry *e = &sh->entries[i];
    e->list = list;
    e->prev = RL_NIL;
    e->next = sh->head[list];
    if (e->next != RL_NIL)
        sh->entries[e->next].prev = i;
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

/* Mark entry i as just used: front of its list, or onto the list its state
 * now calls for. Lockouts keep their place (ordered by start).
 * Performance: an entry already put at the front in the current 64 ms step
 * stays where it is. Moving it writes its neighbours and the shard's list
 * heads; with two threads serving the same clients, those cache lines went
 * back and forth between the cores on every request: `full` with 2 threads
 * reached 1.41 to 1.55 times its 1-thread rate, and 1.56 to 2.06 times
 * with this rule (docs/performance.md, round 6). A client still sending is
 * at most one step behind its place, so a flood evicts it only if it
 * cycles a whole shard within 64 to 128 ms (at the default max_tracked,
 * several hundred thousand new addresses a second). A tick that wraps
 * round to the same value only skips one move. */
static void rl_touch(const rl_memory *m, rl_shard *sh, uint32_t i,
                     int64_t now_ms)
{
    rl_entry *e = &sh->entries[i];
    uint8_t want = rl_list_for(m, e, now_ms);
    if (want == e->list &&
        (want == RL_LIST_LOCKED || e->tick == rl_tick(now_ms)))
        return;
    rl_list_unlink(sh, i);
    rl_list_push(sh, i, want);
    e->tick = rl_tick(now_ms);
}

/* Forgetting an idle entry changes no future decision. */
static int rl_entry_idle(const rl_memory *m, const rl_entry *e, int64_t now_ms)
{
    rl_gcra_state st = { e->tat, e->rpm };
    return e->locked_until_ms <= now_ms && !rl_failures_live(m, e, now_ms) &&
           rl_gcra_idle(&st, now_ms);
}

/* ---- hash table ---- */

static uint32_t rl_find(rl_shard *sh, uint64_t h, const rl_key *k)
{
    uint32_t i = sh->buckets[h & sh->mask];
    while (i != RL_NIL && memcmp(&sh->entries[i].key, k, sizeof(*k)) != 0)
        i = sh->entries[i].hnext;
    return i;
}

static void rl_unchain(rl_memory *m, rl_shard *sh, uint32_t victim)
{
    uint32_t *link = &sh->buckets[rl_hash(m, &sh->entries[victim].key) & sh->mask];
    while (*link != victim)
        link = &sh->entries[*link].hnext;
    *link = sh->entries[victim].hnext;
}

static uint32_t rl_pick_victim(const rl_memory *m, const rl_shard *sh,
                               int64_t now_ms)
{
    for (int l = 0; l < RL_LIST_COUNT; l++) {
        uint32_t t = sh->tail[l];
        if (t != RL_NIL && rl_entry_idle(m, &sh->entries[t], now_ms))
            return t;
    }
    for (int l = 0; l < RL_LIST_COUNT; l++)
        if (sh->tail[l] != RL_NIL)
            return sh->tail[l];
    return RL_NIL;
}

/* A free slot: a new one while under the limit, else an evicted one. */
static uint32_t rl_slot(rl_memory *m, rl_shard *sh, int64_t now_ms)
{
    if (sh->used < sh->limit) {
        if (sh->used == sh->alloc) {
            uint32_t n = sh->alloc ? sh->alloc * 2 : RL_SLAB_MIN;
            if (n > sh->limit)
                n = sh->limit;
            rl_entry *grown = realloc(sh->entries, (size_t)n * sizeof(*grown));
            if (!grown)
                return RL_NIL;
            sh->entries = grown;
            sh->alloc = n;
        }
        return sh->used++;
    }
    uint32_t v = rl_pick_victim(m, sh, now_ms);
    if (v != RL_NIL) {
        rl_unchain(m, sh, v);
        rl_list_unlink(sh, v);
    }
    return v;
}

/* A new entry for k (absent from the table), possibly by eviction; RL_NIL
 * when out of memory. */
static uint32_t rl_insert(rl_memory *m, rl_shard *sh, uint64_t h,
                          const rl_key *k, int64_t now_ms)
{
    uint32_t i = rl_slot(m, sh, now_ms);
    if (i == RL_NIL)
        return RL_NIL;
    rl_entry *e = &sh->entries[i];
    memset(e, 0, sizeof(*e));
    e->key = *k;
    e->tat = RL_TAT_NONE;
    e->hnext = sh->buckets[h & sh->mask];
    sh->buckets[h & sh->mask] = i;
    rl_list_push(sh, i, RL_LIST_RATE);
    e->tick = rl_tick(now_ms);
    return i;
}

/* ---- the backend functions ---- */

/* take for key k, found at i (RL_NIL: absent), with sh->lock held. */
static mcpauth_status rl_take_held(rl_memory *m, rl_shard *sh, uint64_t h,
                                   const rl_key *k, uint32_t i,
                                   const rl_rate *rate, int64_t now_ms,
                                   int dry, rl_take_result *out)
{
    rl_gcra_state g = { RL_TAT_NONE, 0 };
    if (i != RL_NIL)
        g = (rl_gcra_state){ sh->entries[i].tat, sh->entries[i].rpm };
    int r = rl_gcra_take(&g, rate, now_ms, dry, &out->wait_ms);
    out->allowed = r == 1;
    if (r < 0)
        return MCPAUTH_ERANGE;
    if (r == 0 || dry)
        return MCPAUTH_OK;
    if (i == RL_NIL && (i = rl_insert(m, sh, h, k, now_ms)) == RL_NIL)
        return MCPAUTH_ENOMEM;
    sh->entries[i].tat = g.tat;
    sh->entries[i].rpm = g.rpm;
    rl_touch(m, sh, i, now_ms);
    return MCPAUTH_OK;
}

static mcpauth_status rl_mem_take(void *self, const rl_key *key,
                                  const rl_rate *rate, int64_t now_ms, int dry,
                                  rl_take_result *out)
{
    rl_memory *m = self;
    uint64_t h = rl_hash(m, key);
    rl_shard *sh = rl_shard_of(m, h);
    pthread_mutex_lock(&sh->lock);
    mcpauth_status st = rl_take_held(m, sh, h, key, rl_find(sh, h, key), rate,
                                     now_ms, dry, out);
    pthread_mutex_unlock(&sh->lock);
    return st;
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
    pthread_mutex_lock(&sh->lock);
    uint32_t i = rl_find(sh, h, ip);
    if (i == RL_NIL && (i = rl_insert(m, sh, h, ip, now_ms)) == RL_NIL) {
        st = MCPAUTH_ENOMEM;
        goto out;
    }
    *locked = rl_count_failure(&m->rule, &sh->entries[i], now_ms);
    rl_touch(m, sh, i, now_ms);
out:
    pthread_mutex_unlock(&sh->lock);
    return st;
}

static mcpauth_status rl_mem_locked_until(void *self, const rl_key *ip,
                                          int64_t now_ms, int64_t *until_ms)
{
    rl_memory *m = self;
    uint64_t h = rl_hash(m, ip);
    rl_shard *sh = rl_shard_of(m, h);
    pthread_mutex_lock(&sh->lock);
    uint32_t i = rl_find(sh, h, ip);
    *until_ms = 0;
    if (i != RL_NIL && sh->entries[i].locked_until_ms > now_ms)
        *until_ms = sh->entries[i].locked_until_ms;
    pthread_mutex_unlock(&sh->lock);
    return MCPAUTH_OK;
}

/* locked_until then take under one hash, lock and probe (rl_backend.h). */
static mcpauth_status rl_mem_locked_take(void *self, const rl_key *ip,
                                         const rl_rate *rate, int64_t now_ms,
                                         int dry, int64_t *until_ms,
                                         rl_take_result *out)
{
    rl_memory *m = self;
    uint64_t h = rl_hash(m, ip);
    rl_shard *sh = rl_shard_of(m, h);
    mcpauth_status st = MCPAUTH_OK;
    pthread_mutex_lock(&sh->lock);
    uint32_t i = rl_find(sh, h, ip);
    *until_ms = 0;
    out->allowed = 1;
    out->wait_ms = 0;
    if (i != RL_NIL && sh->entries[i].locked_until_ms > now_ms)
        *until_ms = sh->entries[i].locked_until_ms;
    else if (rate)
        st = rl_take_held(m, sh, h, ip, i, rate, now_ms, dry, out);
    pthread_mutex_unlock(&sh->lock);
    return st;
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

static void rl_mem_destroy(void *self)
{
    rl_memory *m = self;
    if (!m)
        return;
    for (uint32_t s = 0; m->shards && s < m->nshards; s++) {
        pthread_mutex_destroy(&m->shards[s].lock);
        free(m->shards[s].entries);
        free(m->shards[s].buckets);
    }
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
    sh->buckets = malloc(((size_t)sh->mask + 1) * sizeof(*sh->buckets));
    if (!sh->buckets)
        return MCPAUTH_ENOMEM;
    memset(sh->buckets, 0xff, ((size_t)sh->mask + 1) * sizeof(*sh->buckets));
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
    for (uint32_t s = 0; s < n; s++)
        total += (size_t)rl_pow2_at_least(rl_shard_limit(max_tracked, n, s)) *
                 sizeof(uint32_t);
    return (total + max_tracked - 1) / max_tracked;
}
