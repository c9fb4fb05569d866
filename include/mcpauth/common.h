/*
 * mcpauth/common.h: the few types that both applications (mcpauth.h) and
 * plugin authors (plugin.h) use. Each of those headers includes this one, so
 * neither needs the other.
 *
 * Enums here are append-only: values are never renumbered or removed.
 */
#ifndef MCPAUTH_COMMON_H
#define MCPAUTH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MCPAUTH_API __attribute__((visibility("default")))
#define MCPAUTH_WARN_UNUSED __attribute__((warn_unused_result))
#define MCPAUTH_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define MCPAUTH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MCPAUTH_API
#define MCPAUTH_WARN_UNUSED
#define MCPAUTH_NONNULL(...)
#define MCPAUTH_PRINTF(f, a)
#endif

/* What a call did. Human-readable detail lives in an mcpauth_error. */
typedef enum mcpauth_status {
    MCPAUTH_OK = 0,
    MCPAUTH_EINVAL = 1,   /* bad argument or bad input */
    MCPAUTH_ENOMEM = 2,   /* out of memory */
    MCPAUTH_EPOLICY = 3,  /* policy file could not be read, parsed or loaded */
    MCPAUTH_EIO = 4,      /* a file could not be read or written */
    MCPAUTH_EPLUGIN = 5,  /* a plugin failed (create or vote error) */
    MCPAUTH_ENOTFOUND = 6,/* no such key, config entry, or record */
    MCPAUTH_EPERM = 7,    /* unsafe file permissions */
    MCPAUTH_EEXIST = 8,   /* already exists */
    MCPAUTH_ETYPE = 9,    /* a config value has the wrong type */
    MCPAUTH_ERANGE = 10,  /* a value or buffer is out of range */
    MCPAUTH_ECORRUPT = 11 /* a file's content does not verify or parse */
} mcpauth_status;

/*
 * Why a request was allowed or denied. Each reason has one HTTP status,
 * returned by mcpauth_reason_http_status().
 */
typedef enum mcpauth_reason {
    MCPAUTH_REASON_OK = 0,              /* 200 */
    MCPAUTH_REASON_NO_CREDENTIALS = 1,  /* 401 */
    MCPAUTH_REASON_BAD_CREDENTIALS = 2, /* 401 */
    MCPAUTH_REASON_EXPIRED = 3,         /* 401 */
    MCPAUTH_REASON_REVOKED = 4,         /* 401 */
    MCPAUTH_REASON_FORBIDDEN = 5,       /* 403 */
    MCPAUTH_REASON_IP_DENIED = 6,       /* 403 */
    MCPAUTH_REASON_RATE_LIMITED = 7,    /* 429 */
    MCPAUTH_REASON_LOCKED_OUT = 8,      /* 429 */
    MCPAUTH_REASON_TOO_LARGE = 9,       /* 413 */
    MCPAUTH_REASON_INTERNAL_ERROR = 10  /* 500 */
} mcpauth_reason;
#define MCPAUTH_REASON_COUNT 11

/* A free key/value attribute on a request, for custom plugins. */
typedef struct mcpauth_attr {
    const char *key;
    const char *value;
} mcpauth_attr;

#define MCPAUTH_REQUEST_VERSION 1

/*
 * One request to decide on. The caller owns every string; they must stay
 * valid for the duration of the mcpauth_check() call only. Any pointer may be
 * NULL (absent). Initialise with MCPAUTH_REQUEST_INIT so that version and
 * size are set: they let later versions of the library add fields.
 */
typedef struct mcpauth_request {
    uint32_t version;          /* MCPAUTH_REQUEST_VERSION */
    uint32_t size;             /* sizeof(mcpauth_request) */
    const char *credential;    /* the presented API key, or NULL */
    const char *client_ip;     /* peer address, IPv4 or IPv6 text */
    const char *method;        /* JSON-RPC method, e.g. "tools/call" */
    const char *tool;          /* tool name for tools/call */
    const char *resource;      /* resource URI for resources/read */
    const char *transport;     /* "http", "websocket" or "stdio" */
    uint64_t bytes;            /* request size in bytes */
    const char *forwarded_for; /* X-Forwarded-For value, or NULL */
    int64_t now_ms;            /* ms since the Unix epoch; 0 means "now" */
    const mcpauth_attr *attrs; /* free attributes for custom plugins */
    size_t nattrs;
} mcpauth_request;

#define MCPAUTH_REQUEST_INIT                                                   \
    { MCPAUTH_REQUEST_VERSION, (uint32_t)sizeof(mcpauth_request), NULL, NULL,  \
      NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, 0 }

/*
 * Who is calling, once an authenticating plugin (apikey) has established it.
 * Lists are NULL-terminated arrays of strings and may be NULL (no list).
 */
typedef struct mcpauth_principal {
    const char *key_id;
    const char *key_name;
    const char *role;                 /* may be NULL: no role */
    const char *key_type;             /* "live" or "test" */
    const char *const *allowed_ips;   /* key's own address/CIDR list */
    const char *const *allowed_tools; /* key's own tool patterns */
} mcpauth_principal;

/* The stable lower-case name of a reason ("ok", "no_credentials", ...). */
MCPAUTH_API const char *mcpauth_reason_name(mcpauth_reason reason);

/* The reason whose name is `name`; returns 0 and sets *out, or -1. */
MCPAUTH_API int mcpauth_reason_from_name(const char *name, mcpauth_reason *out);

/* The HTTP status a server should answer for `reason`. */
MCPAUTH_API int mcpauth_reason_http_status(mcpauth_reason reason);

/* Parse a duration: a non-negative integer and a unit, one of "ms", "s",
 * "m", "h", "d" ("90d", "15m"). Returns MCPAUTH_OK or MCPAUTH_EINVAL. */
MCPAUTH_API mcpauth_status mcpauth_parse_duration_ms(const char *text,
                                                     int64_t *out_ms);

/* Parse an RFC 3339 time ("2026-11-27T12:00:00Z", fractional seconds and
 * numeric offsets allowed) into ms since the Unix epoch. */
MCPAUTH_API mcpauth_status mcpauth_parse_time_ms(const char *text,
                                                 int64_t *out_ms);

/* Format ms since the epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-27T12:00:00.000Z"); needs 25 bytes. Returns the length. */
MCPAUTH_API size_t mcpauth_format_time_ms(int64_t ms, char *buf, size_t cap);

/* The current wall-clock time in ms since the Unix epoch. */
MCPAUTH_API int64_t mcpauth_now_ms(void);

/* A short English text for a status code. */
MCPAUTH_API const char *mcpauth_status_str(mcpauth_status status);

#ifdef __cplusplus
}
#endif
#endif /* MCPAUTH_COMMON_H */
