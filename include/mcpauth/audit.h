/*
 * mcpauth/audit.h: reading and verifying the audit-file plugin's log (part
 * of the embedding API; included by mcpauth.h).
 *
 * The log is one JSON object a line, each record chained to the one before
 * by a BLAKE2b hash (docs/audit.md). PATH is the live file; rotated files
 * are PATH.1 (the newest) to PATH.N (the oldest). Readers walk them oldest
 * first, then PATH, so records come in sequence order.
 *
 *     mcpauth_audit_reader *r; const mcpauth_audit_record *rec;
 *     mcpauth_audit_filter f = MCPAUTH_AUDIT_FILTER_INIT;
 *     f.decision = 0;                              // denials only
 *     if (mcpauth_audit_open(&r, "/var/log/mcpauth/audit.log", &err) == 0) {
 *         while (mcpauth_audit_next(r, &rec, &err) != MCPAUTH_ENOTFOUND)
 *             if (rec && mcpauth_audit_match(&f, rec)) show(rec);
 *         mcpauth_audit_reader_free(r);
 *     }
 */
#ifndef MCPAUTH_AUDIT_H
#define MCPAUTH_AUDIT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mcpauth_error;

/* One record. Strings are NULL when the field is absent or null, and are
 * borrowed from the reader: valid until the next mcpauth_audit_next call or
 * mcpauth_audit_reader_free. */
typedef struct mcpauth_audit_record {
    uint64_t seq;
    int64_t time_ms;          /* ms since the epoch */
    const char *time;         /* as written: RFC 3339, ms, UTC */
    const char *event;        /* "decision", "key.created", "policy.loaded"... */
    int is_decision;          /* event is "decision": the fields below apply */
    int allowed;
    const char *reason;       /* "ok", "forbidden", ... */
    int http_status;
    const char *plugin;       /* the deciding entry's label */
    const char *key_id;
    const char *key_name;
    const char *role;
    const char *client_ip;
    const char *method;
    const char *tool;
    const char *resource;
    const char *transport;
    const char *detail;       /* events, and a deciding vote's detail */
    uint64_t bytes;
    uint64_t latency_ns;
    const char *prev;         /* 64 hex digits */
    const char *hash;         /* 64 hex digits */
    const char *line;         /* the raw JSON line, no newline */
    size_t line_len;
    const char *file;         /* the file it came from */
    uint64_t lineno;          /* its line in that file, from 1 */
} mcpauth_audit_record;

typedef struct mcpauth_audit_reader mcpauth_audit_reader;

/* Open the log at `path` and its rotated files. MCPAUTH_ENOTFOUND when none
 * exists; MCPAUTH_ECORRUPT when a rotated file is missing between two that
 * exist. */
MCPAUTH_API mcpauth_status mcpauth_audit_open(mcpauth_audit_reader **out,
                                              const char *path,
                                              struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 2);

/* The next record, oldest first. Returns MCPAUTH_OK with *out set,
 * MCPAUTH_ENOTFOUND at the end, MCPAUTH_ECORRUPT (err says file:line, *out
 * is NULL) for a line that is not a record, or MCPAUTH_EIO; after
 * MCPAUTH_ECORRUPT the next call goes on with the following line. */
MCPAUTH_API mcpauth_status mcpauth_audit_next(mcpauth_audit_reader *r,
                                              const mcpauth_audit_record **out,
                                              struct mcpauth_error *err)
    MCPAUTH_NONNULL(1, 2);

/* Close the reader. Accepts NULL. */
MCPAUTH_API void mcpauth_audit_reader_free(mcpauth_audit_reader *r);

/* Which records to show. A field left at its INIT value matches anything. */
typedef struct mcpauth_audit_filter {
    int64_t since_ms;         /* records at or after this time; 0: any */
    int decision;             /* -1 any record, 0 denials, 1 allows */
    const char *key_id;       /* records about this key */
    const char *reason;       /* decisions with this reason name */
    const char *event;        /* records of this event type */
} mcpauth_audit_filter;

#define MCPAUTH_AUDIT_FILTER_INIT { 0, -1, NULL, NULL, NULL }

/* Non-zero when `rec` passes every condition of `f`. */
MCPAUTH_API int mcpauth_audit_match(const mcpauth_audit_filter *f,
                                    const mcpauth_audit_record *rec)
    MCPAUTH_NONNULL(1, 2);

/* What mcpauth_audit_verify found. */
typedef struct mcpauth_audit_verify_result {
    uint64_t records;         /* records that verified */
    unsigned files;           /* files walked */
    uint64_t first_seq;       /* oldest record present */
    uint64_t last_seq;
    int from_genesis;         /* 1: the oldest record is the first ever
                                 written; 0: older ones were rotated away */
    char last_hash[65];       /* keep this elsewhere to detect truncation */
    char bad_file[1024];      /* on MCPAUTH_ECORRUPT: where it failed */
    uint64_t bad_line;
} mcpauth_audit_verify_result;

/*
 * Verify the chain across PATH's rotated files and PATH: every line parses,
 * sequence numbers follow each other, every record names the previous
 * record's hash, and every hash matches its record. When `anchor` is not
 * NULL (a last hash kept elsewhere), some record must carry it, which
 * detects a truncated tail. Returns MCPAUTH_OK, MCPAUTH_ECORRUPT with
 * bad_file/bad_line and a message "file:line: why" in err, or
 * MCPAUTH_ENOTFOUND / MCPAUTH_EIO when the log cannot be read.
 */
MCPAUTH_API mcpauth_status mcpauth_audit_verify(const char *path,
                                                const char *anchor,
                                                mcpauth_audit_verify_result *out,
                                                struct mcpauth_error *err)
    MCPAUTH_WARN_UNUSED MCPAUTH_NONNULL(1, 3);

#ifdef __cplusplus
}
#endif
#endif /* MCPAUTH_AUDIT_H */
