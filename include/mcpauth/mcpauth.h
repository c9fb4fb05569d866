/*
 * mcpauth/mcpauth.h: the embedding API of libmcpauth.
 *
 * An MCP server opens a policy once, then calls mcpauth_check() on every
 * request, from as many threads as it likes. mcpauth_reload() swaps in a new
 * policy atomically; checks in flight finish on the old one.
 *
 *     mcpauth *a; mcpauth_error err;
 *     if (mcpauth_open(&a, "policy.yaml", &err) != MCPAUTH_OK) {
 *         fprintf(stderr, "%s\n", err.message);   // file:line:col: ...
 *         exit(2);
 *     }
 *     mcpauth_request req = MCPAUTH_REQUEST_INIT;
 *     req.credential = key; req.client_ip = "203.0.113.7";
 *     req.method = "tools/call"; req.tool = "set_light";
 *     mcpauth_decision d;
 *     mcpauth_check(a, &req, &d);
 *     if (!d.allowed) reply(d.http_status, d.message);
 *     mcpauth_close(a);
 *
 * The library never prints; install a log callback with mcpauth_open_ex().
 */
#ifndef MCPAUTH_MCPAUTH_H
#define MCPAUTH_MCPAUTH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCPAUTH_VERSION_STRING "0.1.0"

/* Opaque handle: one loaded policy and its plugin instances. */
typedef struct mcpauth mcpauth;

/* A status and the human message that goes with it (file:line:col where a
 * file is involved). Never contains a secret. */
typedef struct mcpauth_error {
    mcpauth_status status;
    char message[1024];
} mcpauth_error;

#define MCPAUTH_DECISION_VERSION 1

/* Sizes of the principal fields copied into a decision (with the NUL). */
#define MCPAUTH_KEY_ID_MAX 32
#define MCPAUTH_NAME_MAX 128
#define MCPAUTH_ROLE_MAX 128
#define MCPAUTH_KEY_TYPE_MAX 16
#define MCPAUTH_LABEL_MAX 64
#define MCPAUTH_MESSAGE_MAX 256

/* The outcome of one check. Caller-allocated; mcpauth_check fills it all. */
typedef struct mcpauth_decision {
    uint32_t version;        /* set by the library */
    uint32_t size;
    int allowed;             /* 1 allow, 0 deny */
    mcpauth_reason reason;
    int http_status;         /* what the server should answer */
    uint32_t retry_after;    /* seconds; 0 unless rate_limited/locked_out */
    int has_principal;       /* the fields below are set when 1 */
    char key_id[MCPAUTH_KEY_ID_MAX];
    char key_name[MCPAUTH_NAME_MAX];
    char role[MCPAUTH_ROLE_MAX];
    char key_type[MCPAUTH_KEY_TYPE_MAX];
    char plugin[MCPAUTH_LABEL_MAX];   /* label of the deciding entry */
    char message[MCPAUTH_MESSAGE_MAX];/* safe to show a client */
    /* Time spent deciding. Measured when something reads it: a plugin of
     * the stack with an observe hook (audit records it), a trace, or the
     * flag MCPAUTH_CHECK_TIMED; 0 otherwise (a clock read is not free). */
    uint64_t latency_ns;
} mcpauth_decision;

/* Control flags, Linux-PAM's. */
typedef enum mcpauth_control {
    MCPAUTH_CONTROL_REQUIRED = 0,
    MCPAUTH_CONTROL_REQUISITE = 1,
    MCPAUTH_CONTROL_SUFFICIENT = 2,
    MCPAUTH_CONTROL_OPTIONAL = 3
} mcpauth_control;

/* Votes as they appear in a trace. ERROR: the plugin returned an error. */
typedef enum mcpauth_trace_vote {
    MCPAUTH_TRACE_ALLOW = 0,
    MCPAUTH_TRACE_DENY = 1,
    MCPAUTH_TRACE_ABSTAIN = 2,
    MCPAUTH_TRACE_ERROR = 3,
    MCPAUTH_TRACE_SKIPPED = 4 /* not run: the stack ended before it */
} mcpauth_trace_vote;

/* One stack entry's part in a decision. */
typedef struct mcpauth_trace_entry {
    char name[MCPAUTH_LABEL_MAX];
    mcpauth_control control;
    mcpauth_trace_vote vote;
    mcpauth_reason reason;
    uint32_t retry_after;
    uint64_t elapsed_ns;
    char detail[MCPAUTH_MESSAGE_MAX]; /* the vote's detail, never a secret */
} mcpauth_trace_entry;

/* Flags for mcpauth_check_ex. */
#define MCPAUTH_CHECK_DRY_RUN 0x1u /* no quota used, nothing observed */
#define MCPAUTH_CHECK_TIMED 0x2u   /* measure latency_ns even with no observer */

typedef void (*mcpauth_log_fn)(void *arg, int level, const char *message);

#define MCPAUTH_OPTIONS_VERSION 1

/* Optional settings for mcpauth_open_ex. Zero-initialise, then set version
 * and size (or use MCPAUTH_OPTIONS_INIT). */
typedef struct mcpauth_options {
    uint32_t version;
    uint32_t size;
    mcpauth_log_fn log;      /* where plugins' and the core's logs go */
    void *log_arg;
    const char *base_dir;    /* for mcpauth_open_string: where relative
                                paths resolve; default the working dir */
} mcpauth_options;

#define MCPAUTH_OPTIONS_INIT                                                   \
    { MCPAUTH_OPTIONS_VERSION, (uint32_t)sizeof(mcpauth_options), NULL, NULL,  \
      NULL }

/* Load the policy at `policy_path`. On failure *out is NULL and err (if not
 * NULL) says where and why. */
MCPAUTH_API mcpauth_status mcpauth_open(mcpauth **out, const char *policy_path,
                                        mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2);

/* Load a policy from a YAML string (tests, generated policies). Relative
 * paths resolve against the working directory. */
MCPAUTH_API mcpauth_status mcpauth_open_string(mcpauth **out, const char *yaml,
                                               mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2);

/* Either a file (`policy_path`) or a string (`yaml`), with options (NULL for
 * defaults). */
MCPAUTH_API mcpauth_status mcpauth_open_ex(mcpauth **out,
                                           const char *policy_path,
                                           const char *yaml,
                                           const mcpauth_options *opts,
                                           mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1);

/*
 * Decide on one request. Always fills *out: anything that goes wrong is a
 * deny (internal_error), never an allow. Returns MCPAUTH_OK when the stack
 * ran, or the error that made it deny. Thread-safe; takes no lock that a
 * reload holds.
 */
MCPAUTH_API mcpauth_status mcpauth_check(mcpauth *a, const mcpauth_request *req,
                                         mcpauth_decision *out)
    MCPAUTH_NONNULL(3);

/* mcpauth_check with flags (MCPAUTH_CHECK_*) and an optional trace: up to
 * `cap` entries are written to `trace` and their count to *ntrace. */
MCPAUTH_API mcpauth_status mcpauth_check_ex(mcpauth *a,
                                            const mcpauth_request *req,
                                            unsigned flags,
                                            mcpauth_decision *out,
                                            mcpauth_trace_entry *trace,
                                            size_t cap, size_t *ntrace)
    MCPAUTH_NONNULL(4);

/*
 * Would `req` be allowed? A dry run of the stack: rate limits are not
 * consumed and audit plugins record nothing. Servers use it to show each
 * caller only the tools it may call (tools/list). *allowed is 0 on any error.
 */
MCPAUTH_API mcpauth_status mcpauth_permits(mcpauth *a,
                                           const mcpauth_request *req,
                                           int *allowed)
    MCPAUTH_NONNULL(3);

/* Read the policy again and swap it in. On failure the old policy keeps
 * serving and err says why. Serialised with other reloads. */
MCPAUTH_API mcpauth_status mcpauth_reload(mcpauth *a, mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1);

/* Hand an event (key-management, custom) to every plugin's event hook. */
MCPAUTH_API void mcpauth_notify(mcpauth *a, const char *type,
                                const char *key_id, const char *key_name,
                                const char *role, const char *detail);

/* The number of entries in the current stack, and entry i's label, control
 * flag and the file it was loaded from (borrowed; valid until the next
 * reload or close). Returns MCPAUTH_ERANGE past the end. */
MCPAUTH_API size_t mcpauth_stack_size(mcpauth *a);
MCPAUTH_API mcpauth_status mcpauth_stack_entry(mcpauth *a, size_t i,
                                               const char **label,
                                               mcpauth_control *control,
                                               const char **so_path);

/* Release everything; flushes plugins (audit) first. Accepts NULL. Must not
 * be called while checks are running on other threads. */
MCPAUTH_API void mcpauth_close(mcpauth *a);

/* Names of control flags and trace votes ("required", "allow", ...). */
MCPAUTH_API const char *mcpauth_control_name(mcpauth_control c);
MCPAUTH_API const char *mcpauth_trace_vote_name(mcpauth_trace_vote v);

/* Library version, e.g. "0.1.0". */
MCPAUTH_API const char *mcpauth_version(void);

#ifdef __cplusplus
}
#endif

#include "store.h"
#include "audit.h"

#endif /* MCPAUTH_MCPAUTH_H */
