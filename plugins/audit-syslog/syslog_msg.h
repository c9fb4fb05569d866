/* syslog_msg.h: RFC 5424 messages for the audit-syslog plugin. */
#ifndef AUDIT_SYSLOG_MSG_H
#define AUDIT_SYSLOG_MSG_H

#include "audit_line.h"
#include "mcpauth/plugin.h"

/* The SD-ID of our structured data. 32473 is the private enterprise number
 * RFC 5612 reserves for documentation and examples. */
#define AS_SD_ID "mcpauth@32473"

/* Severities (RFC 5424 table 2) we use. */
#define AS_SEV_WARNING 4
#define AS_SEV_NOTICE 5
#define AS_SEV_INFO 6

/* The header fields every message shares. */
typedef struct as_header {
    int facility;
    const char *hostname;   /* printable ASCII, no spaces */
    const char *app_name;   /* the ident */
    long procid;
} as_header;

/* <PRI>1 TIME HOST APP PROCID decision [mcpauth@32473 allowed="..." ...]
 * allow|deny REASON */
void as_format_decision(mcpauth__abuf *b, const as_header *h,
                        const mcpauth_request *req, const mcpauth_outcome *o);

/* <PRI>1 TIME HOST APP PROCID TYPE [mcpauth@32473 key_id="..." ...] TYPE */
void as_format_event(mcpauth__abuf *b, const as_header *h, int severity,
                     const char *type, int64_t time_ms, const char *key_id,
                     const char *key_name, const char *role,
                     const char *detail);

/* Copy `in` as an RFC 5424 header token (PRINTUSASCII, no space) of at most
 * max bytes into out (max + 1 bytes); "-" when nothing is left. */
void as_token(const char *in, char *out, size_t max);

#endif
