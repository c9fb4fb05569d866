/*
 * mcpauth/store.h: the API key store (part of the embedding API; included by
 * mcpauth.h).
 *
 * A store is one YAML file of key records, each holding a BLAKE2b hash of its
 * key, never the key. A server opens it once and verifies keys against an
 * in-memory snapshot (a hash table built at load); a background thread
 * notices changes to the file and swaps in a new snapshot without ever
 * stalling a verification. Key management (create, revoke, rotate, update)
 * takes a lock beside the file, reads it, changes it and replaces it
 * atomically, so concurrent writers never lose each other's changes.
 *
 *     mcpauth_store *s; mcpauth_error err;
 *     mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
 *     o.flags = MCPAUTH_STORE_CREATE;
 *     if (mcpauth_store_open(&s, "/var/lib/mcpauth/keys.yaml", &o, &err)) ...
 *     mcpauth_key_spec spec = MCPAUTH_KEY_SPEC_INIT;
 *     spec.name = "ci"; spec.role = "reader";
 *     char key[MCPAUTH_KEY_TEXT_MAX];
 *     mcpauth_store_create(s, &spec, 0, key, sizeof key, NULL, &err);
 *     ... show `key` once, then sodium_memzero(key, sizeof key) ...
 *     mcpauth_store_close(s);
 *
 * Times are ms since the Unix epoch; a `now_ms` argument of 0 means the wall
 * clock.
 */
#ifndef MCPAUTH_STORE_H
#define MCPAUTH_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handle on one key store file. Thread-safe. */
typedef struct mcpauth_store mcpauth_store;

struct mcpauth_error;

/* Room for a key's text with its NUL ("mcp_live_" + 54 characters). */
#define MCPAUTH_KEY_TEXT_MAX 96
/* Room for a key id with its NUL (ids are 12 characters). */
#define MCPAUTH_KEY_ID_LEN 12
/* The prefix a new store uses unless told otherwise. */
#define MCPAUTH_KEY_DEFAULT_PREFIX "mcp"

/* Key types, as bits for the `types` argument of mcpauth_store_verify. */
#define MCPAUTH_KEY_TYPE_LIVE 0x1u
#define MCPAUTH_KEY_TYPE_TEST 0x2u

/* Flags for mcpauth_store_options.flags. */
#define MCPAUTH_STORE_CREATE 0x1u /* a missing file is an empty store; the
                                     first write creates it (and its 0700
                                     directory) */
#define MCPAUTH_STORE_WATCH 0x2u  /* run a thread that reloads the file when
                                     it changes (inotify, plus a stat every
                                     reload_interval_ms) */

/* One key as the store describes it (never the key or its hash). */
typedef struct mcpauth_key_info {
    const char *id;
    const char *name;
    const char *role;                 /* NULL: no role */
    const char *type;                 /* "live" or "test" */
    const char *const *allowed_ips;   /* NULL-terminated; NULL: any */
    const char *const *allowed_tools; /* NULL-terminated; NULL: the role's */
    int64_t created_ms;
    int64_t expires_ms;               /* 0: never */
    int64_t revoked_ms;               /* 0: not revoked */
    int64_t grace_until_ms;           /* 0: no rotation grace; else the
                                         previous secret works until then */
} mcpauth_key_info;

/* A list of keys; free it with mcpauth_key_list_free. */
typedef struct mcpauth_key_list {
    size_t count;
    const mcpauth_key_info *keys;
} mcpauth_key_list;

/* Called by the store (from the watcher thread, or from the thread that
 * wrote or refreshed) for each key that changed when a new snapshot is
 * swapped in: type is "key.created", "key.revoked", "key.rotated",
 * "key.updated" or "key.deleted"; `detail` is a short text or NULL. */
typedef void (*mcpauth_store_change_fn)(void *arg, const char *type,
                                        const mcpauth_key_info *key,
                                        const char *detail);
/* Why a reload failed and what the store keeps serving (level: 0 error,
 * 1 warning, 2 info). Never contains a secret. */
typedef void (*mcpauth_store_log_fn)(void *arg, int level, const char *message);

#define MCPAUTH_STORE_OPTIONS_VERSION 1

typedef struct mcpauth_store_options {
    uint32_t version;
    uint32_t size;
    unsigned flags;               /* MCPAUTH_STORE_* */
    int64_t reload_interval_ms;   /* watcher stat interval; 0: 1000 */
    const char *prefix;           /* prefix of a new store; NULL: "mcp" */
    mcpauth_store_log_fn log;     /* may be NULL */
    mcpauth_store_change_fn on_change; /* may be NULL */
    void *arg;                    /* for log and on_change */
} mcpauth_store_options;

#define MCPAUTH_STORE_OPTIONS_INIT                                             \
    { MCPAUTH_STORE_OPTIONS_VERSION, (uint32_t)sizeof(mcpauth_store_options),  \
      0, 0, NULL, NULL, NULL, NULL }

/* What a new key is. Strings are copied. */
typedef struct mcpauth_key_spec {
    const char *name;                 /* required, 1..127 bytes of UTF-8 */
    const char *role;                 /* NULL: no role */
    const char *type;                 /* "live" (NULL) or "test" */
    int64_t expires_ms;               /* 0: never */
    const char *const *allowed_ips;   /* NULL-terminated addresses/CIDRs */
    const char *const *allowed_tools; /* NULL-terminated tool patterns */
} mcpauth_key_spec;

#define MCPAUTH_KEY_SPEC_INIT { NULL, NULL, NULL, 0, NULL, NULL }

/* What to change in a key. Each set_* flag selects a field; a NULL list
 * with its flag set clears it, a NULL role with set_role removes the role. */
typedef struct mcpauth_key_update {
    const char *name;                 /* NULL: unchanged */
    int set_role;
    const char *role;
    int set_expires;
    int64_t expires_ms;               /* 0: never */
    int set_ips;
    const char *const *allowed_ips;
    int set_tools;
    const char *const *allowed_tools;
} mcpauth_key_update;

/* The outcome of one verification. When `release` is not NULL the caller
 * holds a read section on the snapshot that `principal` and `key` point
 * into, and must call release(release_arg) when done with them (the apikey
 * plugin hands both to svc->set_principal). */
typedef struct mcpauth_key_verdict {
    mcpauth_reason reason;   /* OK, BAD_CREDENTIALS, EXPIRED or REVOKED */
    const mcpauth_principal *principal; /* set when reason is OK */
    const mcpauth_key_info *key;        /* set when reason is OK */
    int grace;               /* 1: matched the previous secret of a rotation */
    char key_id[MCPAUTH_KEY_ID_LEN + 1]; /* the presented id when the key was
                                            well-formed, else "" */
    void (*release)(void *arg);
    void *release_arg;
} mcpauth_key_verdict;

/* The store path used when none is given: $MCPAUTH_STORE if set, else
 * LOCALSTATEDIR/lib/mcpauth/keys.yaml. Borrowed, static. */
MCPAUTH_API const char *mcpauth_store_default_path(void);

/* Open the store at `path` (NULL: the default path) and load it. The file
 * (and its directory) must not be readable or writable by group or others.
 * opts may be NULL. On failure *out is NULL and err says why (file:line:col
 * for a parse error). */
MCPAUTH_API mcpauth_status mcpauth_store_open(mcpauth_store **out,
                                              const char *path,
                                              const mcpauth_store_options *opts,
                                              struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1);

/* Stop the watcher and free everything. Accepts NULL. No verification may
 * be running or holding a verdict. */
MCPAUTH_API void mcpauth_store_close(mcpauth_store *s);

/* The path the store reads. Borrowed; valid until close. */
MCPAUTH_API const char *mcpauth_store_path(const mcpauth_store *s);
/* The number of keys in the current snapshot. */
MCPAUTH_API size_t mcpauth_store_count(mcpauth_store *s);
/* The key prefix of the current snapshot (the file's `prefix:`, or for a
 * store not written yet the one it will be created with), copied into buf.
 * Returns its length; the copy is cut to cap - 1 characters. */
MCPAUTH_API size_t mcpauth_store_prefix(mcpauth_store *s, char *buf, size_t cap);

/* Reload now if the file changed since the snapshot was read: the same
 * work the watcher does, synchronously. On failure the previous snapshot
 * keeps serving and err says why. */
MCPAUTH_API mcpauth_status mcpauth_store_refresh(mcpauth_store *s,
                                                 struct mcpauth_error *err)
    MCPAUTH_NONNULL(1);

/* A hint: start fetching the memory that verifying key_text will read
 * first (the id table's slot for its id). Changes nothing and fails on
 * nothing: NULL, short or malformed text only costs a useless fetch. Safe
 * from any thread while the store is open, with no lock or rcu section:
 * it reads where the current table is without holding it, and a table
 * swapped out meanwhile is only a wasted fetch. */
MCPAUTH_API void mcpauth_store_prefetch(mcpauth_store *s, const char *key_text)
    MCPAUTH_NONNULL(1);

/* Verify a presented key at time now_ms, accepting the types in `types`
 * (MCPAUTH_KEY_TYPE_* bits). The hot path: no allocation, no system call,
 * constant-time comparison, and the same hashing work whether or not the
 * id exists. Always fills *out. */
MCPAUTH_API void mcpauth_store_verify(mcpauth_store *s, const char *key_text,
                                      int64_t now_ms, unsigned types,
                                      mcpauth_key_verdict *out)
    MCPAUTH_NONNULL(1, 5);

/* Create a key. Its text (shown once: wipe it after use) goes to key_out,
 * which needs MCPAUTH_KEY_TEXT_MAX bytes; *info_out (may be NULL) gets a
 * copy of its record, freed with mcpauth_key_info_free. */
MCPAUTH_API mcpauth_status mcpauth_store_create(mcpauth_store *s,
                                                const mcpauth_key_spec *spec,
                                                int64_t now_ms, char *key_out,
                                                size_t cap,
                                                mcpauth_key_info **info_out,
                                                struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2, 4);

/* Create n keys (specs[0..n-1]) in one locked read-modify-write of the
 * file, where n calls of mcpauth_store_create would rewrite it n times: for
 * bulk provisioning and imports. Key i's text (shown once: wipe it after
 * use) goes to keys_out + i * MCPAUTH_KEY_TEXT_MAX, so cap must be at least
 * n * MCPAUTH_KEY_TEXT_MAX. All or nothing: on any error (a bad spec names
 * its index) nothing is written and keys_out is wiped. Ids and secrets
 * come from libsodium's randombytes, as for mcpauth_store_create. */
MCPAUTH_API mcpauth_status mcpauth_store_create_batch(mcpauth_store *s,
                                                      const mcpauth_key_spec *specs,
                                                      size_t n, int64_t now_ms,
                                                      char *keys_out, size_t cap,
                                                      struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2, 5);

/* Revoke key `id` at now_ms. MCPAUTH_ENOTFOUND for an unknown id,
 * MCPAUTH_EEXIST when it was already revoked (nothing is written). */
MCPAUTH_API mcpauth_status mcpauth_store_revoke(mcpauth_store *s,
                                                const char *id, int64_t now_ms,
                                                struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2);

/* Give key `id` a new secret (same id). The previous secret keeps working
 * for grace_ms (0: stops at once). The new key's text goes to key_out as
 * for create. A revoked key cannot be rotated (MCPAUTH_EINVAL). */
MCPAUTH_API mcpauth_status mcpauth_store_rotate(mcpauth_store *s,
                                                const char *id,
                                                int64_t grace_ms,
                                                int64_t now_ms, char *key_out,
                                                size_t cap,
                                                mcpauth_key_info **info_out,
                                                struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2, 5);

/* Change a key's name, role, expiry, addresses or tools. */
MCPAUTH_API mcpauth_status mcpauth_store_update(mcpauth_store *s,
                                                const char *id,
                                                const mcpauth_key_update *u,
                                                int64_t now_ms,
                                                mcpauth_key_info **info_out,
                                                struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2, 3);

/* A copy of key `id` from the current snapshot (MCPAUTH_ENOTFOUND). */
MCPAUTH_API mcpauth_status mcpauth_store_get(mcpauth_store *s, const char *id,
                                             mcpauth_key_info **out,
                                             struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2, 3);

/* Every key of the current snapshot (revoked and expired ones included), in
 * file order. */
MCPAUTH_API mcpauth_status mcpauth_store_list(mcpauth_store *s,
                                              mcpauth_key_list **out,
                                              struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2);

/* Accept NULL. */
MCPAUTH_API void mcpauth_key_info_free(mcpauth_key_info *info);
MCPAUTH_API void mcpauth_key_list_free(mcpauth_key_list *list);

/* Check an address or CIDR ("10.0.0.0/8", "2001:db8::1") the way the store
 * does; returns MCPAUTH_OK or MCPAUTH_EINVAL. */
MCPAUTH_API mcpauth_status mcpauth_key_check_cidr(const char *text);

#ifdef __cplusplus
}
#endif
#endif /* MCPAUTH_STORE_H */
