/* reason.c: names, HTTP statuses and default client messages of reasons. */
#include <string.h>

#include "mcpauth/mcpauth.h"

/* The message's length is kept beside it: every allow copies the default
 * message into the decision, and the length need not be counted each time. */
#define REASON(name, http, msg) { name, http, msg, sizeof(msg) - 1 }

static const struct {
    const char *name;
    int http;
    const char *message;
    size_t message_len;
} reasons[MCPAUTH_REASON_COUNT] = {
    REASON("ok", 200, "allowed"),
    REASON("no_credentials", 401, "credentials are required"),
    REASON("bad_credentials", 401, "the credentials are not valid"),
    REASON("expired", 401, "the credentials have expired"),
    REASON("revoked", 401, "the credentials have been revoked"),
    REASON("forbidden", 403, "not permitted"),
    REASON("ip_denied", 403, "requests from this address are not permitted"),
    REASON("rate_limited", 429, "too many requests; retry later"),
    REASON("locked_out", 429, "too many failed attempts; retry later"),
    REASON("too_large", 413, "the request is too large"),
    REASON("internal_error", 500, "internal error; the request was denied"),
};

const char *mcpauth_reason_name(mcpauth_reason r)
{
    return (unsigned)r < MCPAUTH_REASON_COUNT ? reasons[r].name : "internal_error";
}

int mcpauth_reason_http_status(mcpauth_reason r)
{
    return (unsigned)r < MCPAUTH_REASON_COUNT ? reasons[r].http : 500;
}

const char *mcpauth__reason_message(mcpauth_reason r)
{
    return (unsigned)r < MCPAUTH_REASON_COUNT ? reasons[r].message
                                              : reasons[MCPAUTH_REASON_INTERNAL_ERROR].message;
}

const char *mcpauth__reason_message_len(mcpauth_reason r, size_t *len)
{
    if ((unsigned)r >= MCPAUTH_REASON_COUNT)
        r = MCPAUTH_REASON_INTERNAL_ERROR;
    *len = reasons[r].message_len;
    return reasons[r].message;
}

int mcpauth_reason_from_name(const char *name, mcpauth_reason *out)
{
    for (int i = 0; name && i < MCPAUTH_REASON_COUNT; i++)
        if (!strcmp(name, reasons[i].name)) {
            *out = (mcpauth_reason)i;
            return 0;
        }
    return -1;
}

const char *mcpauth_status_str(mcpauth_status s)
{
    static const char *const names[] = {
        "ok", "invalid argument", "out of memory", "policy error", "I/O error",
        "plugin error", "not found", "unsafe permissions", "already exists",
        "wrong type", "out of range", "corrupt or unverifiable data",
    };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown status";
}

const char *mcpauth_trace_vote_name(mcpauth_trace_vote v)
{
    static const char *const names[] = { "allow", "deny", "abstain", "error", "skipped" };
    return (unsigned)v < 5 ? names[v] : "unknown";
}

const char *mcpauth_version(void) { return MCPAUTH_VERSION_STRING; }
