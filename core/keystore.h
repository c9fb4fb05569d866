/*
 * keystore.h: the key store's internals, shared by keystore.c (handle,
 * verification, watcher), keystore_load.c (YAML to snapshot) and
 * keystore_write.c (snapshot to YAML, locked read-modify-write).
 */
#ifndef MCPAUTH_KEYSTORE_H
#define MCPAUTH_KEYSTORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "keyformat.h"
#include "rcu.h"
#include "util.h"

/* Bump allocator for a snapshot's strings and lists: one free, few mallocs. */
typedef struct mcpauth__arena_block {
    struct mcpauth__arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} mcpauth__arena_block;

typedef struct mcpauth__arena {
    mcpauth__arena_block *head;
    size_t min_block; /* the smallest block to open next; 0: 64 KiB */
} mcpauth__arena;

/* Expect strings from up to `bytes` of text: from a huge page's worth on,
 * every block opened from now on is a huge page (see arena_block_new). */
void mcpauth__arena_expect(mcpauth__arena *a, size_t bytes);
void *mcpauth__arena_alloc(mcpauth__arena *a, size_t n);
char *mcpauth__arena_strndup(mcpauth__arena *a, const char *s, size_t n);
/* Take over from's blocks (from is left empty): its strings stay where
 * they are and are freed with a's. */
void mcpauth__arena_adopt(mcpauth__arena *a, mcpauth__arena *from);
void mcpauth__arena_free(mcpauth__arena *a);

/* What identifies one version of the file: a rename changes the inode. */
typedef struct mcpauth__file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    mode_t mode;
    int exists;
} mcpauth__file_id;

void mcpauth__file_id_of(const struct stat *st, mcpauth__file_id *out);
int mcpauth__file_id_eq(const mcpauth__file_id *a, const mcpauth__file_id *b);

/* Fetch the cache lines of the n bytes at p, n at most 64, or a span whose
 * alignment keeps it within two lines (hashes of 68 bytes start at a
 * multiple of 4, records and arena strings of up to 80 at a multiple of
 * 16): the first and the last byte's lines are all of them. Records of 48,
 * 68 or 80 bytes straddle two lines at many indexes; a prefetch of the
 * first byte alone left the second line to miss when it was read. */
static inline void mcpauth__prefetch_span(const void *p, size_t n)
{
    __builtin_prefetch(p);
    __builtin_prefetch((const char *)p + n - 1);
}

/* Where the id sits in a presented key of n characters (the body's first
 * characters, the body being the key's last ones), known before the key
 * is parsed; NULL when the text is too short to hold a body. */
static inline const char *mcpauth__key_id_guess(const char *text, size_t n)
{
    return n > MCPAUTH__KEY_BODY_LEN ? text + n - MCPAUTH__KEY_BODY_LEN : NULL;
}

/* The secret side of one record. `sel` is a byte at which cur and prev
 * differ (0 when there is no prev, or they are equal), set by
 * mcpauth__snap_push: verification looks at that byte of the presented
 * key's hash to pick which of the two to compare (keystore.c). */
typedef struct mcpauth__key_hashes {
    unsigned char cur[MCPAUTH__KEY_HASH_LEN];
    unsigned char prev[MCPAUTH__KEY_HASH_LEN];
    unsigned char has_prev;
    unsigned char sel;
} mcpauth__key_hashes;

/* A slot of the id table. The id is kept in the slot itself so that a
 * probe costs one cache miss, not three (slot, record, arena string): at
 * 100,000 keys the lookup was a fifth of an apikey decision
 * (docs/performance.md). */
typedef struct mcpauth__snap_slot {
    char id[MCPAUTH__KEY_ID_LEN];
    uint32_t idx1;              /* index+1 of the key, 0: empty */
    const char *strings;        /* the record's id string in the arena, its
                                   other strings just after: prefetched by
                                   verify before it needs them */
} mcpauth__snap_slot;

/* Start fetching the slot where a lookup of an id hashed to h begins, in
 * the table at address `table` with `mask`. Integers, so that
 * mcpauth_store_prefetch can pass a table that may have been freed: the
 * address is only ever prefetched. */
static inline void mcpauth__slot_prefetch(uintptr_t table, size_t mask, uint64_t h)
{
    mcpauth__prefetch_span((const void *)(table + (uintptr_t)(h & mask) *
                                                      sizeof(mcpauth__snap_slot)),
                           sizeof(mcpauth__snap_slot));
}

/* One immutable version of the store. Verifications read it inside an rcu
 * read section; list/get copies hold a reference. */
typedef struct mcpauth__snap {
    atomic_long refs;
    char *prefix;
    size_t count, cap;
    mcpauth_key_info *keys;
    mcpauth__key_hashes *hashes;
    mcpauth_principal *principals;
    size_t nprincipals;
    mcpauth__snap_slot *table;  /* open addressing by id */
    size_t mask;
    unsigned char dummy[MCPAUTH__KEY_HASH_LEN]; /* compared for unknown ids */
    mcpauth__file_id file;
    mcpauth__arena arena;
} mcpauth__snap;

mcpauth__snap *mcpauth__snap_new(const char *prefix);
void mcpauth__snap_unref(mcpauth__snap *s);
/* Room for cap records in all, so that pushes up to there do not grow the
 * arrays. */
mcpauth_status mcpauth__snap_reserve(mcpauth__snap *s, size_t cap);
/* Append a record (strings must already live in s->arena). */
mcpauth_status mcpauth__snap_push(mcpauth__snap *s, const mcpauth_key_info *k,
                                  const mcpauth__key_hashes *h);
/* Build the lookup table and principals; fails on a duplicate id (its index
 * goes to *dup). */
mcpauth_status mcpauth__snap_index(mcpauth__snap *s, size_t *dup);
/* The table hash of an id (MCPAUTH__KEY_ID_LEN readable characters). */
uint64_t mcpauth__snap_id_hash(const char *id);
/* Index of key `id` (MCPAUTH__KEY_ID_LEN readable characters), or -1. */
long mcpauth__snap_find(const mcpauth__snap *s, const char *id);
/* The same, with h = mcpauth__snap_id_hash(id) already computed. */
long mcpauth__snap_find_hashed(const mcpauth__snap *s, const char *id, uint64_t h);

/* Start fetching the table slot where snap_find(s, id) begins: a hint, it
 * changes nothing. id: MCPAUTH__KEY_ID_LEN readable characters. Returns
 * the id's hash, for mcpauth__snap_find_hashed. */
uint64_t mcpauth__snap_prefetch(const mcpauth__snap *s, const char *id);

/* Parse store text (`name` for messages) into a new snapshot. */
mcpauth_status mcpauth__store_parse(const char *name, const char *text,
                                    size_t len, mcpauth__snap **out,
                                    mcpauth_error *err);
/* EPERM, naming path and its mode, when st grants group or others any of
 * the bits in `bad` (`what` they could do to it); ssh-style. Shared by the
 * load and by the first write of a new store, so both refuse alike. */
mcpauth_status mcpauth__store_check_mode(const char *path, const struct stat *st,
                                        mode_t bad, const char *what,
                                        mcpauth_error *err);
/* Read, check the permissions of, and parse the file at path. ENOTFOUND
 * when it does not exist. A large file is parsed on several threads
 * (keystore_split.c), leaving `spare` of the CPUs to others: 0 when the
 * store opens, 1 when it reloads or is read for a write beside requests. */
mcpauth_status mcpauth__store_load(const char *path, unsigned spare,
                                   mcpauth__snap **out, mcpauth_error *err);

/* A growable text buffer. */
typedef struct mcpauth__buf {
    char *data;
    size_t len, cap;
    int failed;
} mcpauth__buf;

void mcpauth__buf_put(mcpauth__buf *b, const char *s, size_t n);
void mcpauth__buf_puts(mcpauth__buf *b, const char *s);

/* Serialise snapshot `s` with key `replace` (an index, or s->count to
 * append) replaced by `rec`/`h` (NULL: leave out nothing). */
void mcpauth__store_emit(mcpauth__buf *b, const mcpauth__snap *s, size_t replace,
                         const mcpauth_key_info *rec,
                         const mcpauth__key_hashes *h);

/* Checks shared by create and update. */
mcpauth_status mcpauth__key_check_text(const char *what, const char *s,
                                       int required, mcpauth_error *err);
mcpauth_status mcpauth__key_check_list(const char *what,
                                       const char *const *list, int cidr,
                                       mcpauth_error *err);

/* A verification's read section, handed back through the verdict's
 * release callback; one per rcu slot and phase, so no allocation. */
typedef struct mcpauth__store_hold {
    struct mcpauth_store *store;
    mcpauth_rcu_ticket ticket;
} mcpauth__store_hold;

struct mcpauth_store {
    char *path, *lock_path, *dir, *prefix;
    mcpauth_store_options opts;
    mcpauth_rcu rcu;                 /* the current mcpauth__snap */
    pthread_mutex_t reload_mu;       /* serialises loads and installs */
    mcpauth__file_id tried;          /* the last version a reload read */
    mcpauth_error tried_err;         /* ...and why it failed, if it did */
    int watching;
    int wake[2];
    pthread_t thread;
    mcpauth__store_hold holds[2 * MCPAUTH_RCU_SLOTS];
    /* The current snapshot's id table and mask, for mcpauth_store_prefetch,
     * which reads them outside the rcu section: they are only ever turned
     * into a prefetch address, so a stale pair, or a torn one (a new table
     * with the old mask, read between the two stores), wastes a fetch and
     * nothing else (a prefetch never faults). Integers, not pointers: the
     * table they name may be freed while they are read. */
    atomic_uintptr_t hint_table;
    atomic_size_t hint_mask;
};

/* Swap in `next` (taking the reference) and report what changed to
 * on_change. Call with reload_mu held. */
void mcpauth__store_install(mcpauth_store *s, mcpauth__snap *next);

/* A self-contained copy of k (one block, freed by mcpauth_key_info_free). */
mcpauth_key_info *mcpauth__key_info_dup(const mcpauth_key_info *k);

#endif
