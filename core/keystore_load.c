/*
 * keystore_load.c: the store file into an immutable snapshot.
 *
 * Loading is on the reload path of every running server, and a store may
 * hold 100,000 keys, so this walks libyaml's event stream directly (no
 * document tree), copies each string once into an arena and builds an
 * open-addressing table keyed by id at the end.
 */
#include "keystore_piece.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* ---- arena -------------------------------------------------------------- */

/* Blocks double from 64 KiB up to a huge page: a small store stays small,
 * and a large one's strings lie in huge pages (mcpauth__bulk_alloc).
 * Performance: once the loader has said how much text is coming
 * (mcpauth__arena_expect, which sets `min_block`), a large store's next block
 * is a huge page. Doubling from 64 KiB left the first ~2 MiB of each
 * piece's strings (docs/keys.md: a large file is parsed in up to four
 * pieces) in small pages, and the fetch of a key's strings at
 * verification waited for a page walk: mcpauth__snap_find_hashed went
 * from ~4.9% to ~3.5% of a `full` decision's cycles (docs/performance.md,
 * round 10). */
static mcpauth__arena_block *arena_block_new(const mcpauth__arena *a, size_t n)
{
    const mcpauth__arena_block *prev = a->head;
    size_t hdr = sizeof(mcpauth__arena_block);
    size_t total = prev ? 2 * (hdr + prev->cap) : 65536;
    if (total < a->min_block)
        total = a->min_block; /* the prefix may have opened a small block first */
    if (total > MCPAUTH__BULK_HUGE)
        total = MCPAUTH__BULK_HUGE;
    if (n > total - hdr) {
        if (n > SIZE_MAX - hdr)
            return NULL;
        total = hdr + n;
    }
    mcpauth__arena_block *b = mcpauth__bulk_alloc(total);
    if (b)
        b->cap = total - hdr;
    return b;
}

void mcpauth__arena_expect(mcpauth__arena *a, size_t bytes)
{
    if (bytes >= MCPAUTH__BULK_HUGE)
        a->min_block = MCPAUTH__BULK_HUGE;
}

void *mcpauth__arena_alloc(mcpauth__arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    mcpauth__arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        if (!(b = arena_block_new(a, n)))
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *mcpauth__arena_strndup(mcpauth__arena *a, const char *s, size_t n)
{
    char *p = mcpauth__arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void mcpauth__arena_adopt(mcpauth__arena *a, mcpauth__arena *from)
{
    mcpauth__arena_block *tail = from->head;
    if (!tail)
        return;
    while (tail->next)
        tail = tail->next;
    tail->next = a->head;
    a->head = from->head;
    from->head = NULL;
}

void mcpauth__arena_free(mcpauth__arena *a)
{
    while (a->head) {
        mcpauth__arena_block *n = a->head->next;
        mcpauth__bulk_free(a->head, sizeof(*a->head) + a->head->cap);
        a->head = n;
    }
}

/* ---- file identity ------------------------------------------------------ */

void mcpauth__file_id_of(const struct stat *st, mcpauth__file_id *out)
{
    memset(out, 0, sizeof(*out));
    out->dev = st->st_dev;
    out->ino = st->st_ino;
    out->size = st->st_size;
    out->mtime = st->st_mtim;
    out->ctime = st->st_ctim;
    out->mode = st->st_mode;
    out->exists = 1;
}

int mcpauth__file_id_eq(const mcpauth__file_id *a, const mcpauth__file_id *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mode == b->mode &&
           a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* ---- snapshot ----------------------------------------------------------- */

mcpauth__snap *mcpauth__snap_new(const char *prefix)
{
    mcpauth__snap *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    s->prefix = mcpauth__arena_strndup(&s->arena, prefix, strlen(prefix));
    randombytes_buf(s->dummy, sizeof(s->dummy));
    if (!s->prefix) {
        mcpauth__snap_unref(s);
        return NULL;
    }
    return s;
}

void mcpauth__snap_unref(mcpauth__snap *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    /* Entries from count on were never written (a snapshot only grows by
     * push, and reserve copies count entries), and the loader reserves
     * more than it fills: wiping them would only fault in zero pages. */
    if (s->hashes)
        sodium_memzero(s->hashes, s->count * sizeof(*s->hashes));
    mcpauth__bulk_free(s->keys, s->cap * sizeof(*s->keys));
    mcpauth__bulk_free(s->hashes, s->cap * sizeof(*s->hashes));
    mcpauth__bulk_free(s->principals, s->nprincipals * sizeof(*s->principals));
    if (s->table)
        mcpauth__bulk_free(s->table, (s->mask + 1) * sizeof(*s->table));
    mcpauth__arena_free(&s->arena);
    free(s);
}

mcpauth_status mcpauth__snap_reserve(mcpauth__snap *s, size_t cap)
{
    if (cap <= s->cap)
        return MCPAUTH_OK;
    if (cap > SIZE_MAX / sizeof(mcpauth_key_info) ||
        cap > SIZE_MAX / sizeof(mcpauth__key_hashes))
        return MCPAUTH_ENOMEM;
    mcpauth_key_info *nk = mcpauth__bulk_alloc(cap * sizeof(*nk));
    mcpauth__key_hashes *nh = mcpauth__bulk_alloc(cap * sizeof(*nh));
    if (!nk || !nh) {
        mcpauth__bulk_free(nk, cap * sizeof(*nk));
        mcpauth__bulk_free(nh, cap * sizeof(*nh));
        return MCPAUTH_ENOMEM;
    }
    if (s->keys) {
        memcpy(nk, s->keys, s->count * sizeof(*nk));
        mcpauth__bulk_free(s->keys, s->cap * sizeof(*nk));
    }
    /* The old hashes are wiped before their memory goes back (those past
     * count were never written). */
    if (s->hashes) {
        memcpy(nh, s->hashes, s->count * sizeof(*nh));
        sodium_memzero(s->hashes, s->count * sizeof(*nh));
        mcpauth__bulk_free(s->hashes, s->cap * sizeof(*nh));
    }
    s->keys = nk;
    s->hashes = nh;
    s->cap = cap;
    return MCPAUTH_OK;
}

/* The first byte at which the two hashes differ. Computed at load, where
 * its time says nothing to a client. */
static unsigned char key_hashes_sel(const mcpauth__key_hashes *h)
{
    for (unsigned i = 0; h->has_prev && i < MCPAUTH__KEY_HASH_LEN; i++)
        if (h->cur[i] != h->prev[i])
            return (unsigned char)i;
    return 0;
}

mcpauth_status mcpauth__snap_push(mcpauth__snap *s, const mcpauth_key_info *k,
                                  const mcpauth__key_hashes *h)
{
    mcpauth_status st;
    if (s->count == s->cap &&
        (st = mcpauth__snap_reserve(s, s->cap ? s->cap * 2 : 64)) != MCPAUTH_OK)
        return st;
    s->keys[s->count] = *k;
    s->hashes[s->count] = *h;
    s->hashes[s->count].sel = key_hashes_sel(h);
    s->count++;
    return MCPAUTH_OK;
}

/* Ids are 12 random base62 characters drawn by the store (or written by
 * its administrator), never by a client: a presented id is only looked up,
 * never inserted, so nobody can build a long probe chain and the table
 * needs no keyed hash against flooding. Performance: two overlapping 8-byte
 * loads and two multiplies, instead of FNV-1a's twelve dependent ones,
 * which perf showed at ~4% of a `full` decision (verify hashed each id
 * twice; see mcpauth__snap_prefetch). */
uint64_t mcpauth__snap_id_hash(const char *id)
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + MCPAUTH__KEY_ID_LEN - 8, 8);
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 32);
}

#define id_hash mcpauth__snap_id_hash

long mcpauth__snap_find(const mcpauth__snap *s, const char *id)
{
    return mcpauth__snap_find_hashed(s, id, id_hash(id));
}

long mcpauth__snap_find_hashed(const mcpauth__snap *s, const char *id, uint64_t h)
{
    if (!s->table)
        return -1;
    for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
        const mcpauth__snap_slot *slot = &s->table[i];
        if (slot->idx1 == 0)
            return -1;
        if (memcmp(slot->id, id, MCPAUTH__KEY_ID_LEN) == 0) {
            /* The id's 16 arena bytes and a name of up to 63 characters
             * after them, which the decision copies. Arena strings start
             * on 16 bytes, so those 80 bytes lie within two lines, the
             * first and the last byte's. Round 4 asked for 128 bytes:
             * their first and last byte skip the middle one of three
             * lines, where the name was when the id started late in its
             * line, and it missed in decision_principal's strlen. */
            mcpauth__prefetch_span(slot->strings, 16 + 64);
            return (long)(slot->idx1 - 1);
        }
    }
}

uint64_t mcpauth__snap_prefetch(const mcpauth__snap *s, const char *id)
{
    uint64_t h = id_hash(id);
    if (s->table)
        mcpauth__slot_prefetch((uintptr_t)s->table, s->mask, h);
    return h;
}

mcpauth_status mcpauth__snap_index(mcpauth__snap *s, size_t *dup)
{
    size_t cap = 16;
    while (cap < s->count * 2)
        cap *= 2;
    /* The sizes are set with the pointers: unref frees by them. */
    if ((s->table = mcpauth__bulk_alloc(cap * sizeof(*s->table))))
        s->mask = cap - 1;
    s->nprincipals = s->count ? s->count : 1;
    s->principals = mcpauth__bulk_alloc(s->nprincipals * sizeof(*s->principals));
    if (!s->table || !s->principals)
        return MCPAUTH_ENOMEM;
    /* At 100,000 keys the table is 6 MB and each insert lands on a line
     * nobody touched: a cache miss (100-200 ns here) per key, one after
     * the other. The slot of the key INDEX_AHEAD places on is fetched
     * now, so the misses overlap. Its position is kept in a small ring so
     * that each id is hashed once. */
    enum { INDEX_AHEAD = 8 };
    size_t ahead[INDEX_AHEAD];
    for (size_t k = 0; k < INDEX_AHEAD && k < s->count; k++) {
        ahead[k] = id_hash(s->keys[k].id) & s->mask;
        __builtin_prefetch(&s->table[ahead[k]], 1);
    }
    for (size_t k = 0; k < s->count; k++) {
        const mcpauth_key_info *ki = &s->keys[k];
        size_t i = ahead[k % INDEX_AHEAD];
        if (k + INDEX_AHEAD < s->count) {
            size_t n = id_hash(s->keys[k + INDEX_AHEAD].id) & s->mask;
            ahead[k % INDEX_AHEAD] = n;
            __builtin_prefetch(&s->table[n], 1);
        }
        for (; s->table[i].idx1; i = (i + 1) & s->mask)
            if (memcmp(s->table[i].id, ki->id, MCPAUTH__KEY_ID_LEN) == 0) {
                *dup = k;
                return MCPAUTH_EEXIST;
            }
        memcpy(s->table[i].id, ki->id, MCPAUTH__KEY_ID_LEN);
        s->table[i].idx1 = (uint32_t)(k + 1);
        s->table[i].strings = ki->id;
        mcpauth_principal *p = &s->principals[k];
        p->key_id = ki->id;
        p->key_name = ki->name;
        p->role = ki->role;
        p->key_type = ki->type;
        p->allowed_ips = ki->allowed_ips;
        p->allowed_tools = ki->allowed_tools;
    }
    return MCPAUTH_OK;
}

/* ---- parser ------------------------------------------------------------- */

typedef struct kparser {
    yaml_parser_t yp;
    yaml_event_t ev;
    int have_ev;
    const char *name;
    mcpauth_error *err;
    mcpauth__snap *snap;
    const char **tmp;          /* a list being collected */
    size_t ntmp, captmp;
    yaml_mark_t *marks;        /* where each record starts, for messages */
    size_t capmarks;
    const char *role;          /* the last role copied into the arena */
    size_t role_len;
    /* Kept for keystore_split.c's checks of a piece: */
    int list_block;            /* a list was seen, in block style */
    yaml_mark_t list, list_end, end;
} kparser;

static mcpauth_status p_fail(kparser *p, const yaml_mark_t *m, const char *fmt,
                             const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    return mcpauth__err(p->err, MCPAUTH_ECORRUPT, "%s:%zu:%zu: %s", p->name,
                        m->line + 1, m->column + 1, msg);
}

static mcpauth_status p_next(kparser *p)
{
    if (p->have_ev)
        yaml_event_delete(&p->ev);
    p->have_ev = 0;
    if (!yaml_parser_parse(&p->yp, &p->ev)) {
        const yaml_mark_t *m = &p->yp.problem_mark;
        return p_fail(p, m, "%s", p->yp.problem ? p->yp.problem : "YAML error");
    }
    p->have_ev = 1;
    if (p->ev.type == YAML_ALIAS_EVENT)
        return p_fail(p, &p->ev.start_mark, "aliases are not allowed here%s", "");
    return MCPAUTH_OK;
}

static mcpauth_status p_expect(kparser *p, yaml_event_type_t t, const char *what)
{
    mcpauth_status st = p_next(p);
    if (st == MCPAUTH_OK && p->ev.type != t)
        st = p_fail(p, &p->ev.start_mark, "expected %s", what);
    return st;
}

static const char *sval(const kparser *p)
{
    return (const char *)p->ev.data.scalar.value;
}

static int s_is_null(const kparser *p)
{
    if (p->ev.type != YAML_SCALAR_EVENT ||
        p->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = sval(p);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null");
}

/* The next event, which must be a scalar. */
static mcpauth_status p_scalar(kparser *p)
{
    mcpauth_status st = p_next(p);
    if (st == MCPAUTH_OK && p->ev.type != YAML_SCALAR_EVENT)
        st = p_fail(p, &p->ev.start_mark, "expected a string%s", "");
    return st;
}

/* The next event as a scalar string copied into the arena (NULL allowed
 * when `nullable` and the value is null). */
static mcpauth_status p_string(kparser *p, int nullable, const char **out)
{
    mcpauth_status st = p_scalar(p);
    if (st != MCPAUTH_OK)
        return st;
    if (nullable && s_is_null(p)) {
        *out = NULL;
        return MCPAUTH_OK;
    }
    *out = mcpauth__arena_strndup(&p->snap->arena, sval(p), p->ev.data.scalar.length);
    return *out ? MCPAUTH_OK : mcpauth__err(p->err, MCPAUTH_ENOMEM, "out of memory");
}

/* A role, shared with the record before when it is the same text. Stores
 * hold many keys of few roles (the bench: 100,000 of one): this saves an
 * arena copy per key (1.6 MB at 100,000), and verifications of different
 * keys read one hot string. Safe: the snapshot's strings are immutable and
 * freed together with the arena. */
static mcpauth_status p_role(kparser *p, const char **out)
{
    mcpauth_status st = p_scalar(p);
    if (st != MCPAUTH_OK)
        return st;
    size_t n = p->ev.data.scalar.length;
    if (s_is_null(p))
        *out = NULL;
    else if (p->role && n == p->role_len && !memcmp(p->role, sval(p), n))
        *out = p->role;
    else if ((*out = p->role = mcpauth__arena_strndup(&p->snap->arena, sval(p), n)))
        p->role_len = n;
    else
        return mcpauth__err(p->err, MCPAUTH_ENOMEM, "out of memory");
    return MCPAUTH_OK;
}

static mcpauth_status p_time(kparser *p, int nullable, int64_t *out)
{
    mcpauth_status st = p_next(p);
    if (st != MCPAUTH_OK)
        return st;
    if (nullable && s_is_null(p)) {
        *out = 0;
        return MCPAUTH_OK;
    }
    if (p->ev.type != YAML_SCALAR_EVENT ||
        mcpauth_parse_time_ms(sval(p), out) != MCPAUTH_OK)
        return p_fail(p, &p->ev.start_mark, "expected an RFC 3339 time%s", "");
    /* 0 means "not set" in a record: a time at or before the epoch would
     * silently turn a revocation or an expiry into none. */
    if (*out <= 0)
        return p_fail(p, &p->ev.start_mark, "a time must be after 1970-01-01T00:00:00Z%s", "");
    return MCPAUTH_OK;
}

/* Eight hexadecimal digits (0-9, a-f, A-F) at hex into four bytes at out;
 * *bad gets a nonzero bit for anything else. All eight at once in one
 * 64-bit word, each byte a lane: no branch and no table indexed by the
 * digits, which are a secret's hash (libsodium's hex2bin is constant-time
 * for the same reason, a digit at a time). */
static void hex8(unsigned char out[4], const char *hex, uint64_t *bad)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x80 * ones;
    uint64_t x;
    memcpy(&x, hex, 8);
    /* Lanes below 0x80 only: a lane plus at most 0x7f never carries into
     * the next one. Lanes at or above 0x80 are refused outright. */
    uint64_t y = x & ~high, l = y | 0x20 * ones;
    uint64_t digit = (y + (0x80 - '0') * ones) & ~(y + (0x80 - '9' - 1) * ones);
    uint64_t alpha = (l + (0x80 - 'a') * ones) & ~(l + (0x80 - 'f' - 1) * ones);
    *bad |= (x | ~(digit | alpha)) & high;
    /* '0'-'9' and 'A'-'F' / 'a'-'f' end in 0-9 and 1-6: add 9 to letters. */
    uint64_t v = (y & 0x0f * ones) + ((alpha & high) >> 7) * 9;
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
        v = __builtin_bswap64(v);
    /* Lanes 2i and 2i+1 are the high and low nibble of byte i. */
    v = ((v & 0x000f000f000f000full) << 4) | ((v >> 8) & 0x000f000f000f000full);
    v = (v | (v >> 8)) & 0x0000ffff0000ffffull;
    uint32_t w = (uint32_t)(v | (v >> 16));
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
        w = __builtin_bswap32(w);
    memcpy(out, &w, 4);
}

/* Exactly 2 * MCPAUTH__KEY_HASH_LEN hex digits into out; 0 or -1. It
 * accepts what sodium_hex2bin accepted here (no separators, both cases)
 * in a sixth of its instructions: that call was 237 of the ~650 million
 * instructions a 100,000-key load spent outside libyaml. */
static int hex_hash(unsigned char out[MCPAUTH__KEY_HASH_LEN], const char *hex)
{
    uint64_t bad = 0;
    for (int i = 0; i < MCPAUTH__KEY_HASH_LEN / 4; i++)
        hex8(out + 4 * i, hex + 8 * i, &bad);
    return bad ? -1 : 0;
}

static mcpauth_status p_hash(kparser *p, unsigned char out[MCPAUTH__KEY_HASH_LEN])
{
    mcpauth_status st = p_next(p);
    if (st != MCPAUTH_OK)
        return st;
    if (p->ev.type != YAML_SCALAR_EVENT ||
        p->ev.data.scalar.length != 2 * MCPAUTH__KEY_HASH_LEN ||
        hex_hash(out, sval(p)) != 0)
        return p_fail(p, &p->ev.start_mark,
                      "expected a hash of 64 hexadecimal digits%s", "");
    return MCPAUTH_OK;
}

/* A list of strings into a NULL-terminated arena array; empty or null is
 * NULL (no list). */
static mcpauth_status p_list(kparser *p, const char *const **out)
{
    mcpauth_status st = p_next(p);
    *out = NULL;
    if (st != MCPAUTH_OK || s_is_null(p))
        return st;
    if (p->ev.type != YAML_SEQUENCE_START_EVENT)
        return p_fail(p, &p->ev.start_mark, "expected a list of strings%s", "");
    p->ntmp = 0;
    for (;;) {
        if ((st = p_next(p)) != MCPAUTH_OK)
            return st;
        if (p->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (p->ev.type != YAML_SCALAR_EVENT || !p->ev.data.scalar.length)
            return p_fail(p, &p->ev.start_mark, "expected a non-empty string%s", "");
        if (p->ntmp + 1 >= p->captmp) {
            size_t cap = p->captmp ? p->captmp * 2 : 16;
            const char **n = realloc(p->tmp, cap * sizeof(*n));
            if (!n)
                return mcpauth__err(p->err, MCPAUTH_ENOMEM, "out of memory");
            p->tmp = n;
            p->captmp = cap;
        }
        p->tmp[p->ntmp] = mcpauth__arena_strndup(&p->snap->arena, sval(p),
                                                 p->ev.data.scalar.length);
        if (!p->tmp[p->ntmp++])
            return mcpauth__err(p->err, MCPAUTH_ENOMEM, "out of memory");
    }
    if (p->ntmp == 0)
        return MCPAUTH_OK;
    const char **arr = mcpauth__arena_alloc(&p->snap->arena,
                                            (p->ntmp + 1) * sizeof(*arr));
    if (!arr)
        return mcpauth__err(p->err, MCPAUTH_ENOMEM, "out of memory");
    memcpy(arr, p->tmp, p->ntmp * sizeof(*arr));
    arr[p->ntmp] = NULL;
    *out = arr;
    return MCPAUTH_OK;
}

enum {
    F_ID = 1 << 0, F_NAME = 1 << 1, F_ROLE = 1 << 2, F_TYPE = 1 << 3,
    F_CREATED = 1 << 4, F_EXPIRES = 1 << 5, F_REVOKED = 1 << 6,
    F_IPS = 1 << 7, F_TOOLS = 1 << 8, F_HASH = 1 << 9, F_PREV = 1 << 10,
    F_GRACE = 1 << 11
};

static const struct { const char *name; unsigned bit; } record_fields[] = {
    { "id", F_ID }, { "name", F_NAME }, { "role", F_ROLE }, { "type", F_TYPE },
    { "created", F_CREATED }, { "expires", F_EXPIRES }, { "revoked", F_REVOKED },
    { "allowed_ips", F_IPS }, { "allowed_tools", F_TOOLS }, { "hash", F_HASH },
    { "previous_hash", F_PREV }, { "grace_until", F_GRACE },
};

static unsigned field_bit(const char *name)
{
    /* The first letter picks one or two candidates for strcmp, instead of
     * up to twelve calls for every field of every key (61 million
     * instructions at 100,000 keys). */
    for (size_t i = 0; i < sizeof(record_fields) / sizeof(record_fields[0]); i++)
        if (record_fields[i].name[0] == name[0] && !strcmp(record_fields[i].name, name))
            return record_fields[i].bit;
    return 0;
}

/* One field's value, after its key. */
static mcpauth_status p_field(kparser *p, unsigned bit, mcpauth_key_info *k,
                              mcpauth__key_hashes *h)
{
    const char *type = NULL;
    mcpauth_status st;
    switch (bit) {
    case F_ID:
        if ((st = p_string(p, 0, &k->id)) == MCPAUTH_OK && !mcpauth__key_id_ok(k->id))
            st = p_fail(p, &p->ev.start_mark,
                        "a key id is 12 characters of [0-9A-Za-z]%s", "");
        return st;
    case F_NAME:
        if ((st = p_string(p, 0, &k->name)) == MCPAUTH_OK && !*k->name)
            st = p_fail(p, &p->ev.start_mark, "a key name may not be empty%s", "");
        return st;
    case F_ROLE: return p_role(p, &k->role);
    case F_TYPE:
        /* Read in place: the record keeps a static "live" or "test". */
        if ((st = p_scalar(p)) != MCPAUTH_OK)
            return st;
        type = sval(p);
        k->type = !strcmp(type, "live") ? "live" : !strcmp(type, "test") ? "test" : NULL;
        return k->type ? MCPAUTH_OK
                       : p_fail(p, &p->ev.start_mark,
                                "unknown key type '%s' (live or test)", type);
    case F_CREATED: return p_time(p, 0, &k->created_ms);
    case F_EXPIRES: return p_time(p, 1, &k->expires_ms);
    case F_REVOKED: return p_time(p, 1, &k->revoked_ms);
    case F_GRACE: return p_time(p, 1, &k->grace_until_ms);
    case F_IPS: return p_list(p, &k->allowed_ips);
    case F_TOOLS: return p_list(p, &k->allowed_tools);
    case F_HASH: return p_hash(p, h->cur);
    default:
        h->has_prev = 1;
        return p_hash(p, h->prev);
    }
}

/* The fields of one record, up to its end, into k and h; *seen gets
 * their bits. */
static mcpauth_status p_fields(kparser *p, mcpauth_key_info *k,
                               mcpauth__key_hashes *h, unsigned *seen)
{
    mcpauth_status st;
    for (;;) {
        if ((st = p_next(p)) != MCPAUTH_OK)
            return st;
        if (p->ev.type == YAML_MAPPING_END_EVENT)
            return MCPAUTH_OK;
        if (p->ev.type != YAML_SCALAR_EVENT)
            return p_fail(p, &p->ev.start_mark, "expected a field name%s", "");
        /* The messages below read the field name from the event itself,
         * still current: no copy of it per field. */
        unsigned bit = field_bit(sval(p));
        if (!bit)
            return p_fail(p, &p->ev.start_mark, "unknown field '%s' in a key record",
                          sval(p));
        if (*seen & bit)
            return p_fail(p, &p->ev.start_mark, "field '%s' appears twice", sval(p));
        *seen |= bit;
        if ((st = p_field(p, bit, k, h)) != MCPAUTH_OK)
            return st;
    }
}

/* A complete record (it started at `start`) into the snapshot. */
static mcpauth_status p_push(kparser *p, const yaml_mark_t *start,
                             const mcpauth_key_info *k,
                             const mcpauth__key_hashes *h, unsigned seen)
{
    static const unsigned need = F_ID | F_NAME | F_TYPE | F_CREATED | F_HASH;
    if ((seen & need) != need)
        return p_fail(p, start,
                      "a key record needs id, name, type, created and hash%s", "");
    if (!!(seen & F_PREV) != !!(k->grace_until_ms))
        return p_fail(p, start,
                      "previous_hash and grace_until go together%s", "");
    if (p->snap->count == p->capmarks) {
        size_t cap = p->capmarks ? p->capmarks * 2 : 64;
        yaml_mark_t *m = realloc(p->marks, cap * sizeof(*m));
        if (!m)
            return mcpauth__err(p->err, MCPAUTH_ENOMEM, "out of memory");
        p->marks = m;
        p->capmarks = cap;
    }
    p->marks[p->snap->count] = *start;
    mcpauth_status st = mcpauth__snap_push(p->snap, k, h);
    return st == MCPAUTH_OK ? st : mcpauth__err(p->err, st, "out of memory");
}

static mcpauth_status p_record(kparser *p)
{
    yaml_mark_t start = p->ev.start_mark;
    mcpauth_key_info k;
    mcpauth__key_hashes h;
    memset(&k, 0, sizeof(k));
    memset(&h, 0, sizeof(h));
    unsigned seen = 0;
    mcpauth_status st = p_fields(p, &k, &h, &seen);
    if (st == MCPAUTH_OK)
        st = p_push(p, &start, &k, &h, seen);
    /* The copy of the hashes is wiped on every path, as the snapshot's
     * are when it is freed. */
    sodium_memzero(&h, sizeof(h));
    return st;
}

static mcpauth_status p_keys(kparser *p)
{
    mcpauth_status st = p_next(p);
    if (st != MCPAUTH_OK || s_is_null(p))
        return st;
    if (p->ev.type != YAML_SEQUENCE_START_EVENT)
        return p_fail(p, &p->ev.start_mark, "'keys' must be a list of key records%s", "");
    p->list = p->ev.start_mark;
    p->list_block = p->ev.data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE;
    for (;;) {
        if ((st = p_next(p)) != MCPAUTH_OK)
            return st;
        if (p->ev.type == YAML_SEQUENCE_END_EVENT) {
            p->list_end = p->ev.start_mark;
            return MCPAUTH_OK;
        }
        if (p->ev.type != YAML_MAPPING_START_EVENT)
            return p_fail(p, &p->ev.start_mark, "expected a key record (a mapping)%s", "");
        if ((st = p_record(p)) != MCPAUTH_OK)
            return st;
    }
}

static mcpauth_status p_top_entry(kparser *p, const char *key)
{
    const char *v = NULL;
    mcpauth_status st;
    if (!strcmp(key, "keys"))
        return p_keys(p);
    if (!strcmp(key, "version")) {
        if ((st = p_string(p, 0, &v)) == MCPAUTH_OK && strcmp(v, "1") != 0)
            st = p_fail(p, &p->ev.start_mark,
                        "unsupported store version '%s' (this mcpauth reads 1)", v);
        return st;
    }
    if (!strcmp(key, "prefix")) {
        if ((st = p_string(p, 0, &v)) == MCPAUTH_OK && !mcpauth__key_prefix_ok(v))
            st = p_fail(p, &p->ev.start_mark,
                        "bad key prefix '%s' (1-16 of [a-z0-9], a letter first)", v);
        if (st == MCPAUTH_OK)
            p->snap->prefix = (char *)v;
        return st;
    }
    return p_fail(p, &p->ev.start_mark, "unknown key '%s' in a key store", key);
}

static mcpauth_status p_document_end(kparser *p)
{
    mcpauth_status st = p_expect(p, YAML_DOCUMENT_END_EVENT, "the end of the document");
    if (st != MCPAUTH_OK)
        return st;
    if ((st = p_expect(p, YAML_STREAM_END_EVENT, "a single YAML document")) == MCPAUTH_OK)
        p->end = p->ev.start_mark;
    return st;
}

static mcpauth_status p_document(kparser *p)
{
    mcpauth_status st = p_expect(p, YAML_STREAM_START_EVENT, "a YAML stream");
    if (st != MCPAUTH_OK || (st = p_next(p)) != MCPAUTH_OK)
        return st;
    if (p->ev.type == YAML_STREAM_END_EVENT)
        return MCPAUTH_OK; /* an empty file is an empty store */
    if ((st = p_expect(p, YAML_MAPPING_START_EVENT, "a mapping (version, prefix, keys)")))
        return st;
    char key[32];
    unsigned seen = 0;
    for (;;) {
        if ((st = p_next(p)) != MCPAUTH_OK)
            return st;
        if (p->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (p->ev.type != YAML_SCALAR_EVENT)
            return p_fail(p, &p->ev.start_mark, "expected a key name%s", "");
        mcpauth__strlcpy(key, sval(p), sizeof(key));
        unsigned bit = !strcmp(key, "version") ? 1u : !strcmp(key, "prefix") ? 2u
                     : !strcmp(key, "keys") ? 4u : 0u;
        if (seen & bit)
            return p_fail(p, &p->ev.start_mark, "'%s' appears twice", key);
        seen |= bit;
        if ((st = p_top_entry(p, key)) != MCPAUTH_OK)
            return st;
    }
    return p_document_end(p);
}

/* A piece after the head: records alone, as a list of their own. */
static mcpauth_status p_items(kparser *p)
{
    mcpauth_status st = p_expect(p, YAML_STREAM_START_EVENT, "a YAML stream");
    if (st == MCPAUTH_OK)
        st = p_expect(p, YAML_DOCUMENT_START_EVENT, "key records");
    if (st == MCPAUTH_OK)
        st = p_keys(p);
    return st == MCPAUTH_OK ? p_document_end(p) : st;
}

/* Every record takes at least 127 bytes of text: its five required fields'
 * names (21 characters), values (id 12, name 1, type 4, created 20, hash
 * 64) and colons. An escape is never shorter than the ASCII it stands for,
 * and aliases are refused, so no text is shared. So len / 127 + 1 records
 * at most: sized for that at once, the arrays never grow, which saves
 * copying and wiping the hashes at each doubling and the marks' reallocs.
 * Pages past the last record are never touched, so they cost address
 * space, not memory. Were the bound wrong, or this allocation to fail,
 * push would still grow the arrays: it is a hint, not a limit. */
static void reserve_records(kparser *p, size_t len)
{
    size_t n = len / 127 + 1;
    mcpauth__arena_expect(&p->snap->arena, len);
    if (mcpauth__snap_reserve(p->snap, n) != MCPAUTH_OK)
        return;
    yaml_mark_t *m = malloc(n * sizeof(*m));
    if (m) {
        p->marks = m;
        p->capmarks = n;
    }
}

/* A file read by libyaml as it parses, through its 16 KiB input buffer:
 * bytes [off, end) of fd, or from off to the end of the file when end is
 * 0. Reads are positioned, so that pieces of one file read side by side. */
typedef struct kreader {
    int fd;
    off_t off, end;
    int error;                 /* errno of a failed read, else 0 */
} kreader;

static int kreader_read(void *data, unsigned char *buf, size_t size,
                        size_t *size_read)
{
    kreader *r = data;
    if (r->end && (off_t)size > r->end - r->off)
        size = (size_t)(r->end - r->off);
    for (;;) {
        ssize_t n = size ? pread(r->fd, buf, size, r->off) : 0;
        if (n >= 0) {
            r->off += n;
            *size_read = (size_t)n;
            return 1;
        }
        if (errno != EINTR) {
            r->error = errno;
            return 0;
        }
    }
}

/* A parser over text, or over rd when text is NULL; reserve: bytes the
 * records may span. */
static mcpauth_status parser_open(kparser *p, const char *name, const char *text,
                                  kreader *rd, size_t len, size_t reserve,
                                  mcpauth_error *err)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->err = err;
    p->snap = mcpauth__snap_new(MCPAUTH_KEY_DEFAULT_PREFIX);
    if (!p->snap || !yaml_parser_initialize(&p->yp)) {
        mcpauth__snap_unref(p->snap);
        p->snap = NULL;
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    }
    if (text)
        yaml_parser_set_input_string(&p->yp, (const unsigned char *)text, len);
    else
        yaml_parser_set_input(&p->yp, kreader_read, rd);
    reserve_records(p, reserve);
    return MCPAUTH_OK;
}

/* Everything but the snapshot and the marks, which the caller takes. */
static void parser_close(kparser *p)
{
    if (p->have_ev)
        yaml_event_delete(&p->ev);
    yaml_parser_delete(&p->yp);
    free(p->tmp);
}

/* Index s's records; a duplicate id is reported at its record's mark. */
static mcpauth_status store_index(const char *name, mcpauth__snap *s,
                                  const yaml_mark_t *marks, mcpauth_error *err)
{
    size_t dup = 0;
    mcpauth_status st = mcpauth__snap_index(s, &dup);
    if (st == MCPAUTH_EEXIST)
        return mcpauth__err(err, MCPAUTH_ECORRUPT, "%s:%zu:%zu: duplicate key id '%s'",
                            name, marks[dup].line + 1, marks[dup].column + 1,
                            s->keys[dup].id);
    return st == MCPAUTH_OK ? st : mcpauth__err(err, st, "out of memory");
}

/* A whole store from text, or from rd when text is NULL; len: the text's
 * length or the file's size (a hint for room). */
static mcpauth_status store_parse(const char *name, const char *text,
                                  kreader *rd, size_t len, mcpauth__snap **out,
                                  mcpauth_error *err)
{
    kparser p;
    *out = NULL;
    mcpauth_status st = parser_open(&p, name, text, rd, len, len, err);
    if (st != MCPAUTH_OK)
        return st;
    if ((st = p_document(&p)) == MCPAUTH_OK)
        st = store_index(name, p.snap, p.marks, err);
    parser_close(&p);
    free(p.marks);
    if (st != MCPAUTH_OK)
        mcpauth__snap_unref(p.snap);
    else
        *out = p.snap;
    return st;
}

mcpauth_status mcpauth__store_parse(const char *name, const char *text,
                                    size_t len, mcpauth__snap **out,
                                    mcpauth_error *err)
{
    return store_parse(name, text, NULL, len, out, err);
}

void mcpauth__piece_parse(mcpauth__piece *pc)
{
    kparser p;
    kreader rd = { pc->fd, pc->off, pc->end, 0 };
    pc->st = parser_open(&p, pc->name, NULL, &rd, 0, pc->reserve, &pc->err);
    if (pc->st != MCPAUTH_OK)
        return;
    pc->st = pc->head ? p_document(&p) : p_items(&p);
    /* A piece must be read to its end: a file cut short under the parse
     * (rewritten in place) would otherwise lose the piece's last records. */
    pc->short_read = rd.error || (pc->end && rd.off != pc->end);
    pc->snap = p.snap;
    free(p.marks); /* for messages, and a piece's errors are not reported */
    pc->list_block = p.list_block;
    pc->list_mark = p.list;
    pc->list_end_mark = p.list_end;
    pc->end_mark = p.end;
    parser_close(&p);
}

void mcpauth__piece_free(mcpauth__piece *pc)
{
    mcpauth__snap_unref(pc->snap);
    pc->snap = NULL;
}

/* ---- the file ----------------------------------------------------------- */

mcpauth_status mcpauth__store_check_mode(const char *path, const struct stat *st,
                                        mode_t bad, const char *what,
                                        mcpauth_error *err)
{
    if (!(st->st_mode & bad))
        return MCPAUTH_OK;
    return mcpauth__err(err, MCPAUTH_EPERM,
                        "%s: permissions %04o are too open (group or others may %s "
                        "it); refusing to load the key store (chmod %s %s)",
                        path, (unsigned)(st->st_mode & 07777), what,
                        S_ISDIR(st->st_mode) ? "700" : "600", path);
}

mcpauth_status mcpauth__store_read_whole(const char *path, int fd, size_t size,
                                         mcpauth__snap **out, mcpauth_error *err)
{
    /* libyaml reads the file itself, 16 KiB at a time, instead of parsing
     * a copy of it read whole: at 100,000 keys that copy was 20 MB of
     * fresh pages (5,000 page faults on a first load) written once and
     * read back from memory. The kernel now copies each block into
     * libyaml's buffer, which stays in cache. A read error stops the
     * parse, and is reported as before, not as the parse error. */
    kreader rd = { fd, 0, 0, 0 };
    mcpauth_status rc = store_parse(path, NULL, &rd, size, out, err);
    if (rd.error) {
        mcpauth__snap_unref(*out); /* NULL: the parse failed with the read */
        *out = NULL;
        rc = mcpauth__err(err, MCPAUTH_EIO, "%s: cannot read: %s", path,
                          strerror(rd.error));
    }
    return rc;
}

mcpauth_status mcpauth__store_load(const char *path, unsigned spare,
                                   mcpauth__snap **out, mcpauth_error *err)
{
    *out = NULL;
    char *dir = mcpauth__dirname(path);
    struct stat st, dst;
    mcpauth_status rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = mcpauth__err(err, errno == ENOENT ? MCPAUTH_ENOTFOUND : MCPAUTH_EIO,
                          "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = mcpauth__err(err, MCPAUTH_EIO, "%s: not a regular file", path);
        goto out;
    }
    if ((rc = mcpauth__store_check_mode(path, &st, S_IRWXG | S_IRWXO,
                                        "read or write", err)))
        goto out;
    if (dir && stat(dir, &dst) == 0 &&
        (rc = mcpauth__store_check_mode(dir, &dst, S_IWGRP | S_IWOTH,
                                        "replace files in", err)))
        goto out;
    size_t size = (size_t)st.st_size;
    rc = mcpauth__store_read(path, fd, size, mcpauth__store_pieces(size, spare),
                             out, NULL, err);
    if (rc == MCPAUTH_OK)
        mcpauth__file_id_of(&st, &(*out)->file);
out:
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}
