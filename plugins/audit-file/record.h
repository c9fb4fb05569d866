/* record.h: the fields of an audit-file record, formatted in the caller's
 * thread (the writer adds seq, prev and hash). */
#ifndef AUDIT_FILE_RECORD_H
#define AUDIT_FILE_RECORD_H

#include "audit_line.h"
#include "mcpauth/plugin.h"

/* A decision: time, event "decision", allowed, reason, http_status, plugin,
 * the principal's key_id/key_name/role, the request's client_ip, method,
 * tool, resource, transport and bytes, latency_ns and the vote's detail.
 * Never the credential. */
void af_format_decision(mcpauth__abuf *b, const mcpauth_request *req,
                        const mcpauth_outcome *o);

/* An event (key.created, policy.loaded, ...) at time_ms. */
void af_format_event(mcpauth__abuf *b, const char *type, int64_t time_ms,
                     const char *key_id, const char *key_name,
                     const char *role, const char *detail);

#endif
