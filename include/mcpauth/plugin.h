/*
 * mcpauth/plugin.h: the ABI between the mcpauth core and a plugin.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * MCPAUTH_PLUGIN_ENTRY (mcpauth_plugin_entry), returning a constant
 * descriptor. The core checks the descriptor's abi_version and size before it
 * touches anything else, and refuses the file (naming it) on a mismatch.
 *
 * Build plugins with -fvisibility=hidden and declare the entry point with
 * MCPAUTH_PLUGIN_DEFINE(); everything else stays local.
 *
 * Life cycle, per stack entry (two entries naming the same plugin are two
 * instances with separate state):
 *   create  once, at policy load, with the entry's config (read it through
 *           the services table; the core reports every key the plugin did
 *           not read as "unknown key" with file:line:col and fails the load);
 *   vote    per request, from many threads at once;
 *   observe per request, after the final decision, for every instance in
 *           the stack, including those after an early stop;
 *   event   for key-management and policy events (may be NULL);
 *   destroy once, when the policy is closed or replaced by a reload and no
 *           check is still running on it. Accepts NULL.
 */
#ifndef MCPAUTH_PLUGIN_H
#define MCPAUTH_PLUGIN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCPAUTH_PLUGIN_ABI_VERSION 1

/* A plugin's vote. ABSTAIN means "not my business": it decides nothing. */
typedef enum mcpauth_vote {
    MCPAUTH_VOTE_ALLOW = 0,
    MCPAUTH_VOTE_DENY = 1,
    MCPAUTH_VOTE_ABSTAIN = 2
} mcpauth_vote;

/* Opaque: one node of the entry's YAML config (a map, a list or a scalar). */
typedef struct mcpauth_config mcpauth_config;
/* Opaque: the per-request context. Valid only during vote and observe. */
typedef struct mcpauth_ctx mcpauth_ctx;

/* What vote fills in. The core zeroes it and sets vote = ABSTAIN first. */
typedef struct mcpauth_vote_result {
    mcpauth_vote vote;
    mcpauth_reason reason;  /* for DENY */
    uint32_t retry_after;   /* seconds, for rate_limited / locked_out */
    /* Optional static or plugin-owned texts that outlive the check call.
     * `message` may be shown to clients (never put a secret in it);
     * `detail` goes only to traces and audit records. */
    const char *message;
    const char *detail;
} mcpauth_vote_result;

/* The final decision, handed to observe. */
typedef struct mcpauth_outcome {
    int allowed;
    mcpauth_reason reason;
    int http_status;
    uint32_t retry_after;
    const char *plugin;     /* label of the deciding entry, "" if none */
    const char *message;    /* client-safe text */
    const char *detail;     /* deciding vote's detail, or NULL */
    const mcpauth_principal *principal; /* NULL when none was established */
    uint64_t latency_ns;    /* time spent in the stack so far */
    int64_t now_ms;         /* the request's time */
} mcpauth_outcome;

/* A client address, parsed: IPv4 as family 4 in bytes[0..3] (the rest 0),
 * IPv6 as family 6. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is given
 * as the IPv4 address it maps. */
typedef struct mcpauth_addr {
    int family;          /* 4 or 6 */
    uint8_t bytes[16];   /* network order */
} mcpauth_addr;

/* A key-management or policy event ("key.created", "policy.loaded", ...). */
typedef struct mcpauth_event {
    const char *type;
    int64_t time_ms;
    const char *key_id;     /* NULL when not about a key */
    const char *key_name;
    const char *role;
    const char *detail;     /* free text, never a secret; may be NULL */
} mcpauth_event;

/* Log levels for services->log. */
typedef enum mcpauth_log_level {
    MCPAUTH_LOG_ERROR = 0,
    MCPAUTH_LOG_WARNING = 1,
    MCPAUTH_LOG_INFO = 2,
    MCPAUTH_LOG_DEBUG = 3
} mcpauth_log_level;

/* Kinds of config node. */
typedef enum mcpauth_config_kind {
    MCPAUTH_CONFIG_SCALAR = 0,
    MCPAUTH_CONFIG_LIST = 1,
    MCPAUTH_CONFIG_MAP = 2
} mcpauth_config_kind;

/* Where a plugin instance lives; handed to create. */
typedef struct mcpauth_plugin_env {
    const struct mcpauth_services *svc;
    const char *instance_name; /* the entry's label (name: or plugin name) */
    const char *policy_path;   /* the file the entry was read from, or "" */
    void *core;                /* the core's cookie for svc->log */
} mcpauth_plugin_env;

/*
 * Core services, handed to the plugin at create time. Config accessors return
 * MCPAUTH_OK and fill *out, MCPAUTH_ENOTFOUND when the key is absent (leave
 * your default), or MCPAUTH_ETYPE when the value has the wrong type: the core
 * has then already recorded an error with file:line:col, and create should
 * return MCPAUTH_EPOLICY. Strings and nodes returned are valid only until
 * create returns: copy what you keep.
 */
typedef struct mcpauth_services {
    uint32_t abi_version;   /* MCPAUTH_PLUGIN_ABI_VERSION */
    uint32_t size;          /* sizeof(mcpauth_services) */

    mcpauth_status (*config_string)(const mcpauth_config *c, const char *key,
                                    const char **out);
    mcpauth_status (*config_int)(const mcpauth_config *c, const char *key,
                                 int64_t *out);
    mcpauth_status (*config_bool)(const mcpauth_config *c, const char *key,
                                  int *out);
    /* "250ms", "30s", "15m", "24h", "90d" into milliseconds. */
    mcpauth_status (*config_duration_ms)(const mcpauth_config *c,
                                         const char *key, int64_t *out);
    /* Any node under `key`, to walk nested maps and lists. */
    mcpauth_status (*config_node)(const mcpauth_config *c, const char *key,
                                  const mcpauth_config **out);
    mcpauth_config_kind (*config_kind)(const mcpauth_config *c);
    /* Number of items in a list node or entries in a map node. */
    size_t (*config_count)(const mcpauth_config *c);
    /* Item i of a list node. */
    const mcpauth_config *(*config_item)(const mcpauth_config *c, size_t i);
    /* Entry i of a map node: its key and value. Marks the key as read. */
    const mcpauth_config *(*config_entry)(const mcpauth_config *c, size_t i,
                                          const char **key);
    /* The text of a scalar node, or NULL for a list or map. */
    const char *(*config_scalar)(const mcpauth_config *c);
    /* A list of strings under `key` (a single scalar counts as a list of
     * one, an empty value `key:` as an empty list): *out is a
     * NULL-terminated array owned by the core until create returns; *n its
     * length. */
    mcpauth_status (*config_strings)(const mcpauth_config *c, const char *key,
                                     const char *const **out, size_t *n);
    /* Record an error about node `c` (or the value of `key` inside it when
     * key is not NULL): the core prefixes file:line:col and the entry. */
    void (*config_error)(const mcpauth_config *c, const char *key,
                         const char *fmt, ...) MCPAUTH_PRINTF(3, 4);
    /* Resolve `path` relative to the directory of the file that holds node
     * `c`; absolute paths are copied. ${NAME} and ${NAME:-default} are
     * replaced from the environment first; an unset variable without a
     * default is reported through config_error and gives MCPAUTH_EINVAL. */
    mcpauth_status (*config_path)(const mcpauth_config *c, const char *path,
                                  char *out, size_t cap);

    /* The principal established so far in this request, or NULL. */
    const mcpauth_principal *(*principal)(mcpauth_ctx *ctx);
    /* Establish the principal. Strings and lists are borrowed: they must
     * stay valid until `release(arg)` is called, which the core does after
     * the last observe hook (release may be NULL). The core copies key_id,
     * key_name, role and key_type into the decision. */
    mcpauth_status (*set_principal)(mcpauth_ctx *ctx,
                                    const mcpauth_principal *p,
                                    void (*release)(void *arg), void *arg);
    /* Non-zero when the check is a dry run (mcpauth_permits, --dry-run):
     * plugins must not consume quota or record anything. */
    int (*dry_run)(mcpauth_ctx *ctx);
    /* Log through the embedding application's log callback. */
    void (*log)(void *core, mcpauth_log_level level, const char *fmt, ...)
        MCPAUTH_PRINTF(3, 4);
    /* Hand an event to the event hook of every plugin in this instance's
     * stack (the apikey plugin reports the key changes it sees on reload).
     * Callable from any thread, from the end of create until destroy. */
    void (*emit)(void *core, const mcpauth_event *ev);
    /* Monotonic clock in nanoseconds (for latency, never for decisions:
     * decisions use request->now_ms, which tests inject). */
    uint64_t (*monotonic_ns)(void);

    /* Fields below were added after the first ABI; check `size` before
     * using them in a plugin meant for older cores (MCPAUTH_SVC_HAS). */

    /* The items of a list of strings under `key`, as nodes, so that an
     * error can point at the offending item (read each with config_scalar).
     * A single string counts as a list of one and an empty value (`key:`)
     * as an empty list, as for config_strings. A map, or an item that is
     * not a string, is reported and gives MCPAUTH_ETYPE. *out is owned by
     * the core until create returns. */
    mcpauth_status (*config_string_nodes)(const mcpauth_config *c, const char *key,
                                          const mcpauth_config *const **out,
                                          size_t *n);

    /* The request's client_ip, parsed once per check and shared by every
     * plugin that asks, from vote through observe (ipwhitelist and
     * ratelimit both need it; parsing it twice was a measurable part of a
     * decision). MCPAUTH_OK and *out; MCPAUTH_ENOTFOUND when the request
     * has no address; MCPAUTH_EINVAL when it is not an IPv4 or IPv6
     * address (*out untouched). */
    mcpauth_status (*client_addr)(mcpauth_ctx *ctx, mcpauth_addr *out);
} mcpauth_services;

/* Does the core's services table `svc` have `field`? A core older than the
 * plugin hands a shorter table, and a field past its end is not there. */
#define MCPAUTH_SVC_HAS(svc, field)                                            \
    ((svc)->size >= offsetof(mcpauth_services, field) + sizeof((svc)->field))

/* The descriptor a plugin's entry point returns. abi_version and size come
 * first and are checked before anything else. */
typedef struct mcpauth_plugin {
    uint32_t abi_version;   /* MCPAUTH_PLUGIN_ABI_VERSION */
    uint32_t size;          /* sizeof(mcpauth_plugin) */
    const char *name;
    const char *description;

    /* Build an instance from its config; MCPAUTH_EPOLICY after reporting
     * through config_error. */
    mcpauth_status (*create)(void **state, const mcpauth_plugin_env *env,
                             const mcpauth_config *config);
    /* Decide. Any status but MCPAUTH_OK is an error: the stack then ends in
     * deny internal_error, whatever the entry's control flag. */
    mcpauth_status (*vote)(void *state, mcpauth_ctx *ctx,
                           const mcpauth_request *req,
                           mcpauth_vote_result *out);
    /* Learn the final decision (may be NULL). Not called on dry runs. */
    void (*observe)(void *state, mcpauth_ctx *ctx, const mcpauth_request *req,
                    const mcpauth_outcome *outcome);
    /* Receive an event (may be NULL). */
    void (*event)(void *state, const mcpauth_event *ev);
    void (*destroy)(void *state);

    /* Fields below were added after the first ABI. The core reads them only
     * from a descriptor whose `size` covers them: a plugin built against an
     * older header loads as before, with every flag clear. */

    uint32_t flags;         /* MCPAUTH_PLUGIN_* below */

    /* Start fetching what vote will read (may be NULL). Called for every
     * entry that has it, first to last, when a check starts and before the
     * first vote (dry runs included), so that a cache miss the vote would
     * wait for overlaps the votes of the entries before it: apikey starts
     * loading the key store's table slot for the presented key while
     * ipwhitelist and ratelimit vote. A hint only: it must not decide,
     * block, allocate, change state or keep anything from req. */
    void (*prepare)(void *state, const mcpauth_request *req);
} mcpauth_plugin;

/* observe never reads outcome->latency_ns. Measuring latency takes two
 * monotonic clock reads a check (tens of nanoseconds on a VM), so a check
 * whose observers all carry this flag, with no trace and no
 * MCPAUTH_CHECK_TIMED, reads no monotonic clock and hands latency_ns = 0.
 * Without the flag the latency is measured: forgetting it costs time, never
 * a wrong record. ratelimit's observe, which counts failures, sets it;
 * the audit plugins, which record the latency, do not. */
#define MCPAUTH_PLUGIN_UNTIMED_OBSERVE 0x1u

/* vote, observe and prepare never read req->now_ms nor outcome->now_ms.
 * When every entry of a stack carries this flag, a check whose caller
 * left now_ms 0 reads no wall clock (28 to 55 ns on a VM) and the plugins
 * see now_ms = 0. Without the flag the clock is read: forgetting it costs
 * time, never a wrong time. ipwhitelist and role set it; apikey (expiry,
 * rotation grace), ratelimit and the audit plugins do not. */
#define MCPAUTH_PLUGIN_NO_CLOCK 0x2u

/* The smallest descriptor the core accepts: the first ABI's. */
#define MCPAUTH_PLUGIN_MIN_SIZE offsetof(mcpauth_plugin, flags)

/* Does descriptor `d` have `field`? (as MCPAUTH_SVC_HAS, for the core) */
#define MCPAUTH_PLUGIN_HAS(d, field)                                           \
    ((d)->size >= offsetof(mcpauth_plugin, field) + sizeof((d)->field))

typedef const mcpauth_plugin *(*mcpauth_plugin_entry_fn)(void);

#define MCPAUTH_PLUGIN_ENTRY_SYMBOL "mcpauth_plugin_entry"

/* Define the one exported symbol of a plugin: MCPAUTH_PLUGIN_DEFINE(desc)
 * where desc is a `static const mcpauth_plugin`. */
#define MCPAUTH_PLUGIN_DEFINE(desc)                                            \
    __attribute__((visibility("default"))) const mcpauth_plugin *              \
    mcpauth_plugin_entry(void);                                                \
    __attribute__((visibility("default"))) const mcpauth_plugin *              \
    mcpauth_plugin_entry(void) { return &(desc); }

#ifdef __cplusplus
}
#endif
#endif /* MCPAUTH_PLUGIN_H */
