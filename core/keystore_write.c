/*
 * keystore_write.c: key management. Every change is a read-modify-write of
 * the whole file under an flock on `<store>.lock`, so two `mcpauth key`
 * processes never lose each other's change; the new text is parsed back
 * before it is written (we never write what we could not read) and replaces
 * the file atomically and durably (mcpauth__write_atomic).
 */
#include "keystore.h"
#include "ipaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- text --------------------------------------------------------------- */

void mcpauth__buf_put(mcpauth__buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void mcpauth__buf_puts(mcpauth__buf *b, const char *s)
{
    mcpauth__buf_put(b, s, strlen(s));
}

/* A YAML double-quoted scalar. Input is checked UTF-8 without control
 * characters, but escape them anyway: a hand-edited store may hold some. */
static void put_quoted(mcpauth__buf *b, const char *s)
{
    mcpauth__buf_put(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c && c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
            continue;
        mcpauth__buf_put(b, run, (size_t)(s - run));
        if (!c)
            break;
        char esc[8];
        snprintf(esc, sizeof(esc), c == '"' || c == '\\' ? "\\%c" : "\\x%02x", c);
        mcpauth__buf_puts(b, esc);
        run = s + 1;
    }
    mcpauth__buf_put(b, "\"", 1);
}

static void put_field(mcpauth__buf *b, const char *name, const char *value)
{
    mcpauth__buf_puts(b, "    ");
    mcpauth__buf_puts(b, name);
    mcpauth__buf_puts(b, ": ");
    put_quoted(b, value);
    mcpauth__buf_put(b, "\n", 1);
}

static void put_time(mcpauth__buf *b, const char *name, int64_t ms)
{
    char t[32];
    mcpauth_format_time_ms(ms, t, sizeof(t));
    put_field(b, name, t);
}

static void put_hash(mcpauth__buf *b, const char *name, const unsigned char *h)
{
    char hex[2 * MCPAUTH__KEY_HASH_LEN + 1];
    sodium_bin2hex(hex, sizeof(hex), h, MCPAUTH__KEY_HASH_LEN);
    put_field(b, name, hex);
}

static void put_list(mcpauth__buf *b, const char *name, const char *const *l)
{
    if (!l || !l[0])
        return;
    mcpauth__buf_puts(b, "    ");
    mcpauth__buf_puts(b, name);
    mcpauth__buf_puts(b, ": [");
    for (size_t i = 0; l[i]; i++) {
        if (i)
            mcpauth__buf_puts(b, ", ");
        put_quoted(b, l[i]);
    }
    mcpauth__buf_puts(b, "]\n");
}

static void put_record(mcpauth__buf *b, const mcpauth_key_info *k,
                       const mcpauth__key_hashes *h)
{
    mcpauth__buf_puts(b, "  - id: ");
    put_quoted(b, k->id);
    mcpauth__buf_put(b, "\n", 1);
    put_field(b, "name", k->name);
    if (k->role)
        put_field(b, "role", k->role);
    mcpauth__buf_puts(b, !strcmp(k->type, "test") ? "    type: test\n"
                                                  : "    type: live\n");
    put_time(b, "created", k->created_ms);
    if (k->expires_ms)
        put_time(b, "expires", k->expires_ms);
    if (k->revoked_ms)
        put_time(b, "revoked", k->revoked_ms);
    put_list(b, "allowed_ips", k->allowed_ips);
    put_list(b, "allowed_tools", k->allowed_tools);
    put_hash(b, "hash", h->cur);
    if (h->has_prev && k->grace_until_ms) {
        put_hash(b, "previous_hash", h->prev);
        put_time(b, "grace_until", k->grace_until_ms);
    }
}

void mcpauth__store_emit(mcpauth__buf *b, const mcpauth__snap *s, size_t replace,
                         const mcpauth_key_info *rec,
                         const mcpauth__key_hashes *h)
{
    mcpauth__buf_puts(b, "# mcpauth API key store. Written by `mcpauth key`; it holds "
                         "hashes, never keys.\n# Keep it mode 0600.\nversion: 1\n"
                         "prefix: ");
    put_quoted(b, s->prefix);
    mcpauth__buf_puts(b, s->count || rec ? "\nkeys:\n" : "\nkeys: []\n");
    for (size_t i = 0; i < s->count; i++)
        if (i == replace && rec)
            put_record(b, rec, h);
        else
            put_record(b, &s->keys[i], &s->hashes[i]);
    if (rec && replace >= s->count)
        put_record(b, rec, h);
}

/* ---- validation --------------------------------------------------------- */

/* Well-formed UTF-8 without control characters. */
static int text_ok(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1
                           : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (n == 9 || c < 0x20 || c == 0x7f || (n == 1 && c < 0xC2) || c > 0xF4)
            return 0;
        for (unsigned i = 1; i <= n; i++)
            if ((s[i] & 0xC0) != 0x80)
                return 0;
        s += n + 1;
    }
    return 1;
}

mcpauth_status mcpauth__key_check_text(const char *what, const char *s,
                                       int required, mcpauth_error *err)
{
    if (!s)
        return required ? mcpauth__err(err, MCPAUTH_EINVAL, "a key needs a %s", what)
                        : MCPAUTH_OK;
    if (!*s)
        return mcpauth__err(err, MCPAUTH_EINVAL, "the %s may not be empty", what);
    if (strlen(s) > 127)
        return mcpauth__err(err, MCPAUTH_EINVAL, "the %s is longer than 127 bytes", what);
    if (!text_ok((const unsigned char *)s))
        return mcpauth__err(err, MCPAUTH_EINVAL,
                            "the %s is not UTF-8 text without control characters", what);
    return MCPAUTH_OK;
}

/* The ipwhitelist plugin's own parser, compiled into the core as well
 * (core/CMakeLists.txt), so that the store accepts exactly the per-key
 * entries the plugin will match: one parser, no list that silently
 * matches nothing. Host bits are allowed here as they are for per-key
 * lists (the plugin clears them). */
mcpauth_status mcpauth_key_check_cidr(const char *text)
{
    ipw_cidr c;
    return text && ipw_cidr_parse(text, 0, &c) == NULL ? MCPAUTH_OK : MCPAUTH_EINVAL;
}

mcpauth_status mcpauth__key_check_list(const char *what,
                                       const char *const *list, int cidr,
                                       mcpauth_error *err)
{
    for (size_t i = 0; list && list[i]; i++) {
        mcpauth_status st = mcpauth__key_check_text(what, list[i], 1, err);
        if (st != MCPAUTH_OK)
            return st;
        if (cidr && mcpauth_key_check_cidr(list[i]) != MCPAUTH_OK)
            return mcpauth__err(err, MCPAUTH_EINVAL,
                                "'%s' is not an IP address or CIDR", list[i]);
    }
    return MCPAUTH_OK;
}

static mcpauth_status check_spec(const mcpauth_key_spec *sp, mcpauth_error *err)
{
    mcpauth_status st;
    if ((st = mcpauth__key_check_text("name", sp->name, 1, err)) ||
        (st = mcpauth__key_check_text("role", sp->role, 0, err)) ||
        (st = mcpauth__key_check_list("allowed IP", sp->allowed_ips, 1, err)) ||
        (st = mcpauth__key_check_list("tool pattern", sp->allowed_tools, 0, err)))
        return st;
    if (sp->type && strcmp(sp->type, "live") && strcmp(sp->type, "test"))
        return mcpauth__err(err, MCPAUTH_EINVAL,
                            "unknown key type '%s' (live or test)", sp->type);
    if (sp->expires_ms < 0)
        return mcpauth__err(err, MCPAUTH_EINVAL, "bad expiry time");
    return MCPAUTH_OK;
}

/* ---- locked read-modify-write ------------------------------------------- */

/* Builds the new text from the current snapshot, or fails (nothing is
 * written). */
typedef mcpauth_status (*edit_fn)(mcpauth_store *s, const mcpauth__snap *cur,
                                  void *ctx, mcpauth__buf *out,
                                  mcpauth_error *err);

/* The directory check a load makes (keystore_load.c), made before anything
 * is written: else the first `key create` into a 0777 directory succeeded
 * and every later command refused the store it had just made. Done before
 * the lock file is created, so a refusal leaves nothing behind. */
static mcpauth_status check_dir(const mcpauth_store *s, mcpauth_error *err)
{
    struct stat dst;
    if (!s->dir || stat(s->dir, &dst) != 0)
        return MCPAUTH_OK; /* opening the lock file reports it */
    return mcpauth__store_check_mode(s->dir, &dst, S_IWGRP | S_IWOTH,
                                     "replace files in", err);
}

static int lock_store(mcpauth_store *s, mcpauth_error *err)
{
    if ((s->opts.flags & MCPAUTH_STORE_CREATE) &&
        mcpauth__mkdirs(s->dir, 0700, err) != MCPAUTH_OK)
        return -1;
    if (check_dir(s, err) != MCPAUTH_OK)
        return -1;
    int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        mcpauth__err(err, MCPAUTH_EIO, "%s: %s", s->lock_path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            mcpauth__err(err, MCPAUTH_EIO, "lock %s: %s", s->lock_path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static mcpauth_status load_for_write(mcpauth_store *s, mcpauth__snap **cur,
                                     mcpauth_error *err)
{
    mcpauth_status st = mcpauth__store_load(s->path, 1, cur, err);
    if (st != MCPAUTH_ENOTFOUND || !(s->opts.flags & MCPAUTH_STORE_CREATE))
        return st;
    size_t dup;
    *cur = mcpauth__snap_new(s->prefix);
    if (!*cur || mcpauth__snap_index(*cur, &dup) != MCPAUTH_OK) {
        mcpauth__snap_unref(*cur);
        *cur = NULL;
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    }
    return MCPAUTH_OK;
}

static mcpauth_status store_modify(mcpauth_store *s, edit_fn fn, void *ctx,
                                   mcpauth_error *err)
{
    mcpauth__snap *cur = NULL, *next = NULL;
    mcpauth__buf b = { NULL, 0, 0, 0 };
    mcpauth_status st;
    struct stat fst;
    int lock = lock_store(s, err);
    if (lock < 0)
        return err ? err->status : MCPAUTH_EIO;
    if ((st = load_for_write(s, &cur, err)) != MCPAUTH_OK ||
        (st = fn(s, cur, ctx, &b, err)) != MCPAUTH_OK)
        goto out;
    if (b.failed) {
        st = mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = mcpauth__store_parse(s->path, b.data, b.len, &next, err)) != MCPAUTH_OK ||
        (st = mcpauth__write_atomic(s->path, b.data, b.len, 0600, err)) != MCPAUTH_OK)
        goto out;
    if (stat(s->path, &fst) == 0)
        mcpauth__file_id_of(&fst, &next->file);
    pthread_mutex_lock(&s->reload_mu);
    s->tried = next->file;
    mcpauth__store_install(s, next);
    next = NULL;
    pthread_mutex_unlock(&s->reload_mu);
out:
    close(lock); /* releases the flock */
    mcpauth__snap_unref(cur);
    mcpauth__snap_unref(next);
    free(b.data);
    return st;
}

/* ---- operations --------------------------------------------------------- */

typedef struct key_edit {
    const char *id;
    const mcpauth_key_spec *spec;
    const mcpauth_key_update *upd;
    int64_t now_ms, grace_ms;
    char *key_out;
    size_t cap;
    mcpauth_key_info **info_out;
} key_edit;

static long find_key(const mcpauth__snap *cur, const char *id, mcpauth_error *err)
{
    long i = mcpauth__key_id_ok(id) ? mcpauth__snap_find(cur, id) : -1;
    if (i < 0)
        mcpauth__err(err, MCPAUTH_ENOTFOUND, "no key with id '%s'", id);
    return i;
}

/* Emit with record i replaced, and copy it out for the caller. */
static mcpauth_status finish(key_edit *e, const mcpauth__snap *cur, size_t i,
                             const mcpauth_key_info *rec,
                             const mcpauth__key_hashes *h, mcpauth__buf *out,
                             mcpauth_error *err)
{
    mcpauth__store_emit(out, cur, i, rec, h);
    if (e->info_out && !(*e->info_out = mcpauth__key_info_dup(rec)))
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    return MCPAUTH_OK;
}

static mcpauth_status new_secret(key_edit *e, const mcpauth__snap *cur,
                                 const char *type, const char *id,
                                 unsigned char hash[MCPAUTH__KEY_HASH_LEN],
                                 mcpauth_error *err)
{
    size_t n = mcpauth__key_generate(cur->prefix, type, id, e->key_out, e->cap);
    if (!n)
        return mcpauth__err(err, MCPAUTH_ERANGE, "key buffer too small");
    mcpauth__key_hash(e->key_out, n, hash);
    return MCPAUTH_OK;
}

static mcpauth_status edit_create(mcpauth_store *s, const mcpauth__snap *cur,
                                  void *ctx, mcpauth__buf *out, mcpauth_error *err)
{
    (void)s;
    key_edit *e = ctx;
    char id[MCPAUTH__KEY_ID_LEN + 1];
    do
        mcpauth__key_new_id(id);
    while (mcpauth__snap_find(cur, id) >= 0);
    mcpauth_key_info rec = { id, e->spec->name, e->spec->role,
                             e->spec->type ? e->spec->type : "live",
                             e->spec->allowed_ips, e->spec->allowed_tools,
                             e->now_ms, e->spec->expires_ms, 0, 0 };
    if (rec.allowed_ips && !rec.allowed_ips[0])
        rec.allowed_ips = NULL;
    if (rec.allowed_tools && !rec.allowed_tools[0])
        rec.allowed_tools = NULL;
    mcpauth__key_hashes h;
    memset(&h, 0, sizeof(h));
    mcpauth_status st = new_secret(e, cur, rec.type, id, h.cur, err);
    if (st == MCPAUTH_OK)
        st = finish(e, cur, cur->count, &rec, &h, out, err);
    return st;
}

static mcpauth_status edit_revoke(mcpauth_store *s, const mcpauth__snap *cur,
                                  void *ctx, mcpauth__buf *out, mcpauth_error *err)
{
    (void)s;
    key_edit *e = ctx;
    long i = find_key(cur, e->id, err);
    if (i < 0)
        return MCPAUTH_ENOTFOUND;
    mcpauth_key_info rec = cur->keys[i];
    if (rec.revoked_ms) {
        char t[32];
        mcpauth_format_time_ms(rec.revoked_ms, t, sizeof(t));
        return mcpauth__err(err, MCPAUTH_EEXIST, "key '%s' was already revoked at %s",
                            e->id, t);
    }
    rec.revoked_ms = e->now_ms;
    return finish(e, cur, (size_t)i, &rec, &cur->hashes[i], out, err);
}

static mcpauth_status edit_rotate(mcpauth_store *s, const mcpauth__snap *cur,
                                  void *ctx, mcpauth__buf *out, mcpauth_error *err)
{
    (void)s;
    key_edit *e = ctx;
    long i = find_key(cur, e->id, err);
    if (i < 0)
        return MCPAUTH_ENOTFOUND;
    mcpauth_key_info rec = cur->keys[i];
    if (rec.revoked_ms)
        return mcpauth__err(err, MCPAUTH_EINVAL,
                            "key '%s' is revoked; create a new key instead", e->id);
    mcpauth__key_hashes h;
    memset(&h, 0, sizeof(h));
    rec.grace_until_ms = e->grace_ms > 0 ? e->now_ms + e->grace_ms : 0;
    if (rec.grace_until_ms) {
        memcpy(h.prev, cur->hashes[i].cur, sizeof(h.prev));
        h.has_prev = 1;
    }
    mcpauth_status st = new_secret(e, cur, rec.type, rec.id, h.cur, err);
    if (st == MCPAUTH_OK)
        st = finish(e, cur, (size_t)i, &rec, &h, out, err);
    sodium_memzero(&h, sizeof(h));
    return st;
}

static mcpauth_status edit_update(mcpauth_store *s, const mcpauth__snap *cur,
                                  void *ctx, mcpauth__buf *out, mcpauth_error *err)
{
    (void)s;
    key_edit *e = ctx;
    const mcpauth_key_update *u = e->upd;
    long i = find_key(cur, e->id, err);
    if (i < 0)
        return MCPAUTH_ENOTFOUND;
    mcpauth_key_info rec = cur->keys[i];
    if (u->name)
        rec.name = u->name;
    if (u->set_role)
        rec.role = u->role;
    if (u->set_expires)
        rec.expires_ms = u->expires_ms;
    if (u->set_ips)
        rec.allowed_ips = u->allowed_ips && u->allowed_ips[0] ? u->allowed_ips : NULL;
    if (u->set_tools)
        rec.allowed_tools = u->allowed_tools && u->allowed_tools[0] ? u->allowed_tools : NULL;
    mcpauth_key_spec sp = { rec.name, rec.role, rec.type, rec.expires_ms,
                            rec.allowed_ips, rec.allowed_tools };
    mcpauth_status st = check_spec(&sp, err);
    if (st == MCPAUTH_OK)
        st = finish(e, cur, (size_t)i, &rec, &cur->hashes[i], out, err);
    return st;
}

static int64_t now_or(int64_t now_ms)
{
    return now_ms ? now_ms : mcpauth_now_ms();
}

/* ---- many keys in one write ------------------------------------------- */

typedef struct batch_edit {
    const mcpauth_key_spec *specs;
    size_t n;
    int64_t now_ms;
    char *keys_out;
} batch_edit;

typedef char batch_id[MCPAUTH__KEY_ID_LEN + 1];

static int cmp_id_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fresh_id(const mcpauth__snap *cur, char *id)
{
    do
        mcpauth__key_new_id(id);
    while (mcpauth__snap_find(cur, id) >= 0);
}

/* n new ids, none in `cur` and no two alike. A clash among 62^12 ids is
 * all but impossible, but the store refuses duplicates, so sort the batch
 * and draw again until it has none. */
static mcpauth_status batch_ids(const mcpauth__snap *cur, batch_id *ids, size_t n,
                                mcpauth_error *err)
{
    char **order = malloc(n * sizeof(*order));
    if (!order)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        fresh_id(cur, ids[i]);
        order[i] = ids[i];
    }
    for (int again = 1; again;) {
        again = 0;
        qsort(order, n, sizeof(*order), cmp_id_ptr);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(order[i - 1], order[i])) {
                fresh_id(cur, order[i]);
                again = 1;
            }
    }
    free(order);
    return MCPAUTH_OK;
}

/* Key i of the batch: its text into its slot of keys_out, its record
 * appended to `out` (after the existing ones, which the first emits). */
static mcpauth_status batch_one(const batch_edit *e, const mcpauth__snap *cur,
                                size_t i, const char *id, mcpauth__buf *out,
                                mcpauth_error *err)
{
    const mcpauth_key_spec *sp = &e->specs[i];
    mcpauth_key_info rec = { id, sp->name, sp->role, sp->type ? sp->type : "live",
                             sp->allowed_ips, sp->allowed_tools,
                             e->now_ms, sp->expires_ms, 0, 0 };
    if (rec.allowed_ips && !rec.allowed_ips[0])
        rec.allowed_ips = NULL;
    if (rec.allowed_tools && !rec.allowed_tools[0])
        rec.allowed_tools = NULL;
    mcpauth__key_hashes h;
    memset(&h, 0, sizeof(h));
    char *key = e->keys_out + i * MCPAUTH_KEY_TEXT_MAX;
    size_t len = mcpauth__key_generate(cur->prefix, rec.type, id, key,
                                       MCPAUTH_KEY_TEXT_MAX);
    if (!len)
        return mcpauth__err(err, MCPAUTH_EINVAL, "key %zu: cannot form a key", i);
    mcpauth__key_hash(key, len, h.cur);
    if (i == 0)
        mcpauth__store_emit(out, cur, cur->count, &rec, &h);
    else
        put_record(out, &rec, &h);
    return MCPAUTH_OK;
}

static mcpauth_status edit_batch(mcpauth_store *s, const mcpauth__snap *cur,
                                 void *ctx, mcpauth__buf *out, mcpauth_error *err)
{
    (void)s;
    const batch_edit *e = ctx;
    batch_id *ids = malloc(e->n * sizeof(*ids));
    if (!ids)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    mcpauth_status st = batch_ids(cur, ids, e->n, err);
    for (size_t i = 0; st == MCPAUTH_OK && i < e->n; i++)
        st = batch_one(e, cur, i, ids[i], out, err);
    free(ids);
    return st;
}

mcpauth_status mcpauth_store_create_batch(mcpauth_store *s,
                                          const mcpauth_key_spec *specs, size_t n,
                                          int64_t now_ms, char *keys_out, size_t cap,
                                          mcpauth_error *err)
{
    mcpauth_status st = MCPAUTH_OK;
    if (n == 0)
        return MCPAUTH_OK;
    if (n > SIZE_MAX / MCPAUTH_KEY_TEXT_MAX || cap < n * MCPAUTH_KEY_TEXT_MAX)
        return mcpauth__err(err, MCPAUTH_ERANGE, "key buffer too small for %zu keys", n);
    for (size_t i = 0; i < n && st == MCPAUTH_OK; i++)
        if ((st = check_spec(&specs[i], err)) != MCPAUTH_OK && err) {
            char why[sizeof(err->message)];
            snprintf(why, sizeof(why), "%s", err->message);
            mcpauth__err(err, st, "key %zu: %s", i, why);
        }
    batch_edit e = { specs, n, now_or(now_ms), keys_out };
    if (st == MCPAUTH_OK)
        st = store_modify(s, edit_batch, &e, err);
    if (st != MCPAUTH_OK)
        sodium_memzero(keys_out, cap);
    return st;
}

/* A failed change leaves no key text and no record copy behind. */
static mcpauth_status failed_output(mcpauth_status st, char *key_out, size_t cap,
                                    mcpauth_key_info **info_out)
{
    if (st == MCPAUTH_OK)
        return st;
    if (key_out && cap)
        sodium_memzero(key_out, cap);
    if (info_out) {
        mcpauth_key_info_free(*info_out);
        *info_out = NULL;
    }
    return st;
}

mcpauth_status mcpauth_store_create(mcpauth_store *s, const mcpauth_key_spec *spec,
                                    int64_t now_ms, char *key_out, size_t cap,
                                    mcpauth_key_info **info_out, mcpauth_error *err)
{
    if (info_out)
        *info_out = NULL;
    mcpauth_status st = check_spec(spec, err);
    if (st != MCPAUTH_OK)
        return st;
    key_edit e = { NULL, spec, NULL, now_or(now_ms), 0, key_out, cap, info_out };
    st = store_modify(s, edit_create, &e, err);
    return failed_output(st, key_out, cap, info_out);
}

mcpauth_status mcpauth_store_revoke(mcpauth_store *s, const char *id,
                                    int64_t now_ms, mcpauth_error *err)
{
    key_edit e = { id, NULL, NULL, now_or(now_ms), 0, NULL, 0, NULL };
    return store_modify(s, edit_revoke, &e, err);
}

mcpauth_status mcpauth_store_rotate(mcpauth_store *s, const char *id,
                                    int64_t grace_ms, int64_t now_ms,
                                    char *key_out, size_t cap,
                                    mcpauth_key_info **info_out,
                                    mcpauth_error *err)
{
    if (info_out)
        *info_out = NULL;
    if (grace_ms < 0)
        return mcpauth__err(err, MCPAUTH_EINVAL, "a grace period cannot be negative");
    key_edit e = { id, NULL, NULL, now_or(now_ms), grace_ms, key_out, cap, info_out };
    mcpauth_status st = store_modify(s, edit_rotate, &e, err);
    return failed_output(st, key_out, cap, info_out);
}

mcpauth_status mcpauth_store_update(mcpauth_store *s, const char *id,
                                    const mcpauth_key_update *u, int64_t now_ms,
                                    mcpauth_key_info **info_out, mcpauth_error *err)
{
    if (info_out)
        *info_out = NULL;
    key_edit e = { id, NULL, u, now_or(now_ms), 0, NULL, 0, info_out };
    return failed_output(store_modify(s, edit_update, &e, err), NULL, 0, info_out);
}
