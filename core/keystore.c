/*
 * keystore.c: the store handle. Verification reads the current snapshot in
 * an rcu read section (no lock, no allocation, no system call); a watcher
 * thread, refresh() and key-management writes load new snapshots off the
 * request path and publish them, telling on_change what changed.
 */
#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

const char *mcpauth_store_default_path(void)
{
    const char *env = getenv("MCPAUTH_STORE");
    return env && *env ? env : MCPAUTH_LOCALSTATEDIR "/lib/mcpauth/keys.yaml";
}

static void store_log(mcpauth_store *s, int level, const char *fmt, ...)
    MCPAUTH_PRINTF(3, 4);
static void store_log(mcpauth_store *s, int level, const char *fmt, ...)
{
    if (!s->opts.log)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->opts.log(s->opts.arg, level, msg);
}

/* ---- copies for callers ------------------------------------------------- */

static size_t list_size(const char *const *l, size_t *n)
{
    size_t bytes = 0;
    *n = 0;
    for (; l && l[*n]; (*n)++)
        bytes += strlen(l[*n]) + 1;
    return bytes;
}

static char *put_str(char **w, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = memcpy(*w, s, n);
    *w += n;
    return p;
}

static const char *const *put_list(char **w, const char ***slots,
                                   const char *const *l, size_t n)
{
    if (!n)
        return NULL;
    const char **arr = *slots;
    for (size_t i = 0; i < n; i++)
        arr[i] = put_str(w, l[i]);
    arr[n] = NULL;
    *slots += n + 1;
    return arr;
}

mcpauth_key_info *mcpauth__key_info_dup(const mcpauth_key_info *k)
{
    size_t nip, ntool;
    size_t strs = strlen(k->id) + strlen(k->name) + strlen(k->type) + 3 +
                  (k->role ? strlen(k->role) + 1 : 0) +
                  list_size(k->allowed_ips, &nip) + list_size(k->allowed_tools, &ntool);
    size_t slots = (nip ? nip + 1 : 0) + (ntool ? ntool + 1 : 0);
    mcpauth_key_info *c = malloc(sizeof(*c) + slots * sizeof(char *) + strs);
    if (!c)
        return NULL;
    const char **sl = (const char **)(c + 1);
    char *w = (char *)(sl + slots);
    *c = *k;
    c->id = put_str(&w, k->id);
    c->name = put_str(&w, k->name);
    c->type = put_str(&w, k->type);
    c->role = put_str(&w, k->role);
    c->allowed_ips = put_list(&w, &sl, k->allowed_ips, nip);
    c->allowed_tools = put_list(&w, &sl, k->allowed_tools, ntool);
    return c;
}

void mcpauth_key_info_free(mcpauth_key_info *info)
{
    free(info);
}

typedef struct key_list_priv {
    mcpauth_key_list pub;
    mcpauth__snap *snap;
} key_list_priv;

/* A counted reference on the current snapshot, for long-lived readers. */
static mcpauth__snap *snap_ref(mcpauth_store *s)
{
    mcpauth_rcu_ticket t;
    mcpauth__snap *snap = mcpauth__rcu_lock(&s->rcu, &t);
    atomic_fetch_add(&snap->refs, 1);
    mcpauth__rcu_unlock(&s->rcu, &t);
    return snap;
}

mcpauth_status mcpauth_store_list(mcpauth_store *s, mcpauth_key_list **out,
                                  mcpauth_error *err)
{
    key_list_priv *l = malloc(sizeof(*l));
    *out = NULL;
    if (!l)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    l->snap = snap_ref(s);
    l->pub.count = l->snap->count;
    l->pub.keys = l->snap->keys;
    *out = &l->pub;
    return MCPAUTH_OK;
}

void mcpauth_key_list_free(mcpauth_key_list *list)
{
    if (!list)
        return;
    key_list_priv *l = (key_list_priv *)list;
    mcpauth__snap_unref(l->snap);
    free(l);
}

mcpauth_status mcpauth_store_get(mcpauth_store *s, const char *id,
                                 mcpauth_key_info **out, mcpauth_error *err)
{
    mcpauth__snap *snap = snap_ref(s);
    long i = mcpauth__key_id_ok(id) ? mcpauth__snap_find(snap, id) : -1;
    mcpauth_status st = MCPAUTH_OK;
    *out = NULL;
    if (i < 0)
        st = mcpauth__err(err, MCPAUTH_ENOTFOUND, "no key with id '%s'", id);
    else if (!(*out = mcpauth__key_info_dup(&snap->keys[i])))
        st = mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    mcpauth__snap_unref(snap);
    return st;
}

size_t mcpauth_store_count(mcpauth_store *s)
{
    mcpauth_rcu_ticket t;
    size_t n = ((mcpauth__snap *)mcpauth__rcu_lock(&s->rcu, &t))->count;
    mcpauth__rcu_unlock(&s->rcu, &t);
    return n;
}

size_t mcpauth_store_prefix(mcpauth_store *s, char *buf, size_t cap)
{
    mcpauth_rcu_ticket t;
    const mcpauth__snap *snap = mcpauth__rcu_lock(&s->rcu, &t);
    size_t n = mcpauth__strlcpy(buf, snap->prefix ? snap->prefix : s->prefix, cap);
    mcpauth__rcu_unlock(&s->rcu, &t);
    return n;
}

const char *mcpauth_store_path(const mcpauth_store *s)
{
    return s->path;
}

/* ---- verification ------------------------------------------------------- */

static void hold_release(void *arg)
{
    mcpauth__store_hold *h = arg;
    mcpauth__rcu_unlock(&h->store->rcu, &h->ticket);
}

void mcpauth_store_prefetch(mcpauth_store *s, const char *text)
{
    const char *guess = text ? mcpauth__key_id_guess(text, strnlen(text, MCPAUTH_KEY_TEXT_MAX))
                             : NULL;
    uintptr_t table = atomic_load_explicit(&s->hint_table, memory_order_relaxed);
    if (!guess || !table)
        return;
    size_t mask = atomic_load_explicit(&s->hint_mask, memory_order_relaxed);
    mcpauth__slot_prefetch(table, mask, mcpauth__snap_id_hash(guess));
}

/* Does hv equal cur or prev? One byte at which cur and prev differ (`sel`)
 * says which of the two hv could be: sodium_memcmp compares that byte, a
 * mask (no branch) turns hv from prev into cur when the byte says prev,
 * and sodium_memcmp compares the result with cur whole. hv is changed.
 * If hv is cur, its byte matches cur's; if it is prev, its byte matches
 * prev's, which is not cur's; anything else matches neither candidate.
 * Performance: sodium_memcmp costs ~9 instructions a byte (volatile
 * accesses), and comparing against both was 10% of a `full` decision. The
 * work is the same whatever hv is, and whether prev exists: without one,
 * prev is the dummy or cur, and the selection runs anyway. *use_prev says
 * which candidate was compared. */
static int hash_matches(unsigned char hv[MCPAUTH__KEY_HASH_LEN],
                        const unsigned char cur[MCPAUTH__KEY_HASH_LEN],
                        const unsigned char prev[MCPAUTH__KEY_HASH_LEN],
                        unsigned sel, int *use_prev)
{
    /* 0 when the bytes are equal, -1 when not */
    int other = sodium_memcmp(&hv[sel], &cur[sel], 1);
    uint64_t mask = (uint64_t)(int64_t)other;
    /* hv ^ ((cur ^ prev) & mask) is cur exactly when hv is cur (mask 0)
     * or prev (mask all ones): that is compared with cur, in place, so no
     * copy of either hash is made (nor wiped: hv is, by the caller). */
    for (size_t w = 0; w < MCPAUTH__KEY_HASH_LEN; w += 8) {
        uint64_t h, c, p;
        memcpy(&h, hv + w, 8);
        memcpy(&c, cur + w, 8);
        memcpy(&p, prev + w, 8);
        h ^= (c ^ p) & mask;
        memcpy(hv + w, &h, 8);
    }
    *use_prev = other != 0;
    return sodium_memcmp(hv, cur, MCPAUTH__KEY_HASH_LEN) == 0;
}

void mcpauth_store_verify(mcpauth_store *s, const char *text, int64_t now_ms,
                          unsigned types, mcpauth_key_verdict *out)
{
    memset(out, 0, sizeof(*out));
    out->reason = MCPAUTH_REASON_BAD_CREDENTIALS;
    mcpauth_rcu_ticket t;
    const mcpauth__snap *snap = mcpauth__rcu_lock(&s->rcu, &t);
    /* Performance: the id table's slot is a cache miss on nearly every
     * verification (a 6 MiB table read at random). Where the id would be
     * (the body is the key's last characters) is known before the key is
     * parsed, so the slot is fetched while the parse and the CRC run. A
     * malformed key only costs a useless prefetch. */
    size_t n = text ? strnlen(text, MCPAUTH_KEY_TEXT_MAX) : 0;
    const char *guess = text ? mcpauth__key_id_guess(text, n) : NULL;
    uint64_t h_id = guess ? mcpauth__snap_prefetch(snap, guess) : 0;
    mcpauth__key_parts kp;
    if (mcpauth__key_parse(text, n, &kp) != MCPAUTH__KEY_WELLFORMED)
        goto deny;
    memcpy(out->key_id, kp.id, MCPAUTH__KEY_ID_LEN);
    if (!(kp.type & types))
        goto deny;
    if (!now_ms)
        now_ms = mcpauth_now_ms();
    /* An unknown id goes through the comparison against a dummy hash, like
     * a known one (hash_matches), and the key is hashed either way: the
     * time taken does not say whether the id exists. The prefix and type
     * need no check of their own: the hash covers the whole key. */
    /* A well-formed key's id is where the prefetch guessed: hashed once. */
    long i = mcpauth__snap_find_hashed(snap, kp.id,
                                       kp.id == guess ? h_id : mcpauth__snap_id_hash(kp.id));
    if (i >= 0) {
        /* Performance: the record's cache lines (hashes, record, principal:
         * three arrays of 100,000 entries) are fetched while the key is
         * hashed below, instead of one miss after another afterwards. */
        mcpauth__prefetch_span(&snap->hashes[i], sizeof(snap->hashes[i]));
        mcpauth__prefetch_span(&snap->keys[i], sizeof(snap->keys[i]));
        mcpauth__prefetch_span(&snap->principals[i], sizeof(snap->principals[i]));
    }
    unsigned char hv[MCPAUTH__KEY_HASH_LEN];
    mcpauth__key_hash(text, kp.len, hv);
    const mcpauth__key_hashes *h = i >= 0 ? &snap->hashes[i] : NULL;
    int use_prev;
    int match = hash_matches(hv, h ? h->cur : snap->dummy,
                             h && h->has_prev ? h->prev : snap->dummy,
                             h ? h->sel : 0, &use_prev);
    sodium_memzero(hv, sizeof(hv));
    const mcpauth_key_info *k = i >= 0 ? &snap->keys[i] : NULL;
    if (!k || !match ||
        (use_prev && !(h->has_prev && now_ms < k->grace_until_ms)))
        goto deny;
    out->grace = use_prev;
    if (k->revoked_ms) {
        out->reason = MCPAUTH_REASON_REVOKED;
        goto deny;
    }
    if (k->expires_ms && now_ms >= k->expires_ms) {
        out->reason = MCPAUTH_REASON_EXPIRED;
        goto deny;
    }
    mcpauth__store_hold *hold = &s->holds[t.slot * 2 + t.phase];
    out->reason = MCPAUTH_REASON_OK;
    out->principal = &snap->principals[i];
    out->key = k;
    out->release = hold_release;
    out->release_arg = hold;
    return;
deny:
    mcpauth__rcu_unlock(&s->rcu, &t);
}

/* ---- publishing and diffing --------------------------------------------- */

static int list_eq(const char *const *a, const char *const *b)
{
    size_t i = 0;
    for (; a && b && a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]))
            return 0;
    return (!a || !a[i]) && (!b || !b[i]);
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* What changed in an update, e.g. "name,role", into buf. */
static void changed_fields(const mcpauth_key_info *o, const mcpauth_key_info *n,
                           char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!str_eq(o->name, n->name)) strncat(buf, "name,", cap - strlen(buf) - 1);
    if (!str_eq(o->role, n->role)) strncat(buf, "role,", cap - strlen(buf) - 1);
    if (o->expires_ms != n->expires_ms) strncat(buf, "expires,", cap - strlen(buf) - 1);
    if (!list_eq(o->allowed_ips, n->allowed_ips))
        strncat(buf, "allowed_ips,", cap - strlen(buf) - 1);
    if (!list_eq(o->allowed_tools, n->allowed_tools))
        strncat(buf, "allowed_tools,", cap - strlen(buf) - 1);
    if (o->revoked_ms != n->revoked_ms || strcmp(o->type, n->type))
        strncat(buf, "state,", cap - strlen(buf) - 1);
    size_t n_ = strlen(buf);
    if (n_)
        buf[n_ - 1] = '\0';
}

static void diff_one(mcpauth_store *s, const mcpauth__snap *old,
                     const mcpauth__snap *next, size_t i)
{
    const mcpauth_key_info *n = &next->keys[i];
    long j = mcpauth__snap_find(old, n->id);
    char detail[128];
    if (j < 0) {
        s->opts.on_change(s->opts.arg, "key.created", n, NULL);
        return;
    }
    const mcpauth_key_info *o = &old->keys[j];
    if (!o->revoked_ms && n->revoked_ms) {
        s->opts.on_change(s->opts.arg, "key.revoked", n, NULL);
    } else if (memcmp(old->hashes[j].cur, next->hashes[i].cur, MCPAUTH__KEY_HASH_LEN)) {
        char t[32] = "";
        if (n->grace_until_ms)
            mcpauth_format_time_ms(n->grace_until_ms, t, sizeof(t));
        snprintf(detail, sizeof(detail), "previous secret valid until %s",
                 *t ? t : "rotation (no grace)");
        s->opts.on_change(s->opts.arg, "key.rotated", n, detail);
    } else {
        changed_fields(o, n, detail, sizeof(detail));
        if (*detail)
            s->opts.on_change(s->opts.arg, "key.updated", n, detail);
    }
}

static void diff_snaps(mcpauth_store *s, const mcpauth__snap *old,
                       const mcpauth__snap *next)
{
    for (size_t i = 0; i < next->count; i++)
        diff_one(s, old, next, i);
    for (size_t j = 0; j < old->count; j++)
        if (mcpauth__snap_find(next, old->keys[j].id) < 0)
            s->opts.on_change(s->opts.arg, "key.deleted", &old->keys[j],
                              "removed from the store file");
}

/* Point mcpauth_store_prefetch at snap's table (see the fields' comment). */
static void store_hint(mcpauth_store *s, const mcpauth__snap *snap)
{
    atomic_store_explicit(&s->hint_table, (uintptr_t)snap->table, memory_order_relaxed);
    atomic_store_explicit(&s->hint_mask, snap->mask, memory_order_relaxed);
}

void mcpauth__store_install(mcpauth_store *s, mcpauth__snap *next)
{
    /* Publish first so requests see the new keys at once; the old snapshot
     * stays alive (our reference) for the diff. */
    int reclaim;
    mcpauth__snap *old = mcpauth__rcu_swap(&s->rcu, next, &reclaim);
    store_hint(s, next);
    if (old && s->opts.on_change)
        diff_snaps(s, old, next);
    if (reclaim)
        mcpauth__snap_unref(old);
    else if (old) /* a verification may still hold it: kept, not freed */
        store_log(s, 0, "membarrier(2) was refused, so the previous key store "
                        "is kept in memory rather than freed under a "
                        "verification; allow membarrier in the seccomp filter "
                        "(docs/embedding.md)");
}

/* ---- reloading ---------------------------------------------------------- */

static mcpauth_status refresh_locked(mcpauth_store *s, int quiet_repeat,
                                     mcpauth_error *err)
{
    mcpauth__file_id now;
    struct stat st;
    memset(&now, 0, sizeof(now));
    if (stat(s->path, &st) == 0)
        mcpauth__file_id_of(&st, &now);
    mcpauth__snap *cur = mcpauth__rcu_peek(&s->rcu);
    if (mcpauth__file_id_eq(&now, &cur->file))
        return MCPAUTH_OK;
    if (mcpauth__file_id_eq(&now, &s->tried)) {
        /* Already tried this version and refused it: say so again to a
         * caller who asks, but don't flood the log every interval. */
        if (s->tried_err.status != MCPAUTH_OK && err)
            *err = s->tried_err;
        if (s->tried_err.status != MCPAUTH_OK || !quiet_repeat)
            return s->tried_err.status;
    }
    mcpauth__snap *next = NULL;
    mcpauth_error e;
    memset(&e, 0, sizeof(e));
    s->tried = now;
    mcpauth_status rc = mcpauth__store_load(s->path, 1, &next, &e);
    s->tried_err = e;
    s->tried_err.status = rc;
    if (rc != MCPAUTH_OK) {
        store_log(s, 1, "%s; keeping the last good key store (%zu keys) in service",
                  e.message, cur->count);
        if (err)
            *err = e;
        return rc;
    }
    s->tried = next->file;
    mcpauth__store_install(s, next);
    store_log(s, 2, "%s: reloaded, %zu keys", s->path, next->count);
    return MCPAUTH_OK;
}

mcpauth_status mcpauth_store_refresh(mcpauth_store *s, mcpauth_error *err)
{
    pthread_mutex_lock(&s->reload_mu);
    mcpauth_status st = refresh_locked(s, 0, err);
    pthread_mutex_unlock(&s->reload_mu);
    return st;
}

/* Wait for a change in the directory (inotify) or the interval, whichever
 * comes first, then compare the file's identity; the stat poll also covers
 * file systems where inotify says nothing (NFS) and a chmod of the file. */
static void *watch_main(void *arg)
{
    mcpauth_store *s = arg;
    int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino >= 0 && inotify_add_watch(ino, s->dir, IN_CLOSE_WRITE | IN_MOVED_TO |
                                      IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                      IN_ATTRIB) < 0) {
        close(ino);
        ino = -1;
    }
    int timeout = (int)(s->opts.reload_interval_ms > 0 ? s->opts.reload_interval_ms
                                                       : 1000);
    for (;;) {
        struct pollfd fds[2] = { { s->wake[0], POLLIN, 0 }, { ino, POLLIN, 0 } };
        int r = poll(fds, ino >= 0 ? 2 : 1, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (ino >= 0 && fds[1].revents) {
            char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
            while (read(ino, buf, sizeof(buf)) > 0)
                ;
        }
        pthread_mutex_lock(&s->reload_mu);
        refresh_locked(s, 1, NULL);
        pthread_mutex_unlock(&s->reload_mu);
    }
    if (ino >= 0)
        close(ino);
    return NULL;
}

/* ---- open and close ----------------------------------------------------- */

static mcpauth_status empty_snap(mcpauth_store *s, mcpauth__snap **out,
                                 mcpauth_error *err)
{
    size_t dup;
    *out = mcpauth__snap_new(s->prefix);
    if (!*out || mcpauth__snap_index(*out, &dup) != MCPAUTH_OK) {
        mcpauth__snap_unref(*out);
        *out = NULL;
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    }
    return MCPAUTH_OK;
}

static mcpauth_status store_init(mcpauth_store *s, const char *path,
                                 const mcpauth_store_options *o, mcpauth_error *err)
{
    const char *prefix = o && o->prefix ? o->prefix : MCPAUTH_KEY_DEFAULT_PREFIX;
    if (o && (o->version != MCPAUTH_STORE_OPTIONS_VERSION || o->size < sizeof(*o)))
        return mcpauth__err(err, MCPAUTH_EINVAL, "mcpauth_store_options: bad version or size");
    if (!mcpauth__key_prefix_ok(prefix))
        return mcpauth__err(err, MCPAUTH_EINVAL,
                            "bad key prefix '%s' (1-16 of [a-z0-9], a letter first)", prefix);
    if (o)
        s->opts = *o;
    s->path = mcpauth__strdup(path);
    s->prefix = mcpauth__strdup(prefix);
    s->dir = mcpauth__dirname(path);
    size_t n = strlen(path) + 6;
    s->lock_path = malloc(n);
    if (!s->path || !s->prefix || !s->dir || !s->lock_path)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    snprintf(s->lock_path, n, "%s.lock", path);
    s->opts.prefix = s->prefix;
    for (unsigned i = 0; i < 2 * MCPAUTH_RCU_SLOTS; i++) {
        s->holds[i].store = s;
        s->holds[i].ticket.slot = i / 2;
        s->holds[i].ticket.phase = i % 2;
    }
    return MCPAUTH_OK;
}

static mcpauth_status start_watch(mcpauth_store *s, mcpauth_error *err)
{
    if (pipe2(s->wake, O_CLOEXEC) != 0)
        return mcpauth__err(err, MCPAUTH_EIO, "pipe: %s", strerror(errno));
    int rc = pthread_create(&s->thread, NULL, watch_main, s);
    if (rc != 0) {
        close(s->wake[0]);
        close(s->wake[1]);
        return mcpauth__err(err, MCPAUTH_EIO, "cannot start the store watcher: %s",
                            strerror(rc));
    }
    s->watching = 1;
    return MCPAUTH_OK;
}

mcpauth_status mcpauth_store_open(mcpauth_store **out, const char *path,
                                  const mcpauth_store_options *opts,
                                  mcpauth_error *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return mcpauth__err(err, MCPAUTH_EIO, "libsodium failed to initialise");
    mcpauth_store *s = calloc(1, sizeof(*s));
    if (!s)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    mcpauth__snap *snap = NULL;
    mcpauth_status st = store_init(s, path ? path : mcpauth_store_default_path(),
                                   opts, err);
    if (st == MCPAUTH_OK) {
        st = mcpauth__store_load(s->path, 0, &snap, err);
        if (st == MCPAUTH_ENOTFOUND && (s->opts.flags & MCPAUTH_STORE_CREATE))
            st = empty_snap(s, &snap, err);
    }
    if (st != MCPAUTH_OK) {
        free(s->path), free(s->prefix), free(s->dir), free(s->lock_path), free(s);
        return st;
    }
    s->tried = snap->file;
    mcpauth__rcu_init(&s->rcu, snap);
    store_hint(s, snap);
    pthread_mutex_init(&s->reload_mu, NULL);
    if ((s->opts.flags & MCPAUTH_STORE_WATCH) &&
        (st = start_watch(s, err)) != MCPAUTH_OK) {
        mcpauth_store_close(s);
        return st;
    }
    *out = s;
    return MCPAUTH_OK;
}

void mcpauth_store_close(mcpauth_store *s)
{
    if (!s)
        return;
    if (s->watching) {
        ssize_t w;
        do
            w = write(s->wake[1], "x", 1);
        while (w < 0 && errno == EINTR);
        pthread_join(s->thread, NULL);
        close(s->wake[0]);
        close(s->wake[1]);
    }
    int reclaim; /* no verification may run any more (store.h) */
    mcpauth__snap_unref(mcpauth__rcu_swap(&s->rcu, NULL, &reclaim));
    mcpauth__rcu_destroy(&s->rcu);
    pthread_mutex_destroy(&s->reload_mu);
    free(s->path);
    free(s->prefix);
    free(s->dir);
    free(s->lock_path);
    free(s);
}
