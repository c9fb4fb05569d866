/* audit_verify.c: mcpauth_audit_verify, the chain check of mcpauth/audit.h. */
#include <stdio.h>
#include <string.h>

#include "audit_line.h"
#include "audit_read.h"
#include "util.h"

/* The state carried from one record to the next. */
typedef struct chain {
    int started;
    uint64_t seq;
    char hash[MCPAUTH__AUDIT_HASH_HEX + 1];
    int anchor_seen;
} chain;

/* Why `rec` does not follow the chain, or NULL when it does. */
static const char *check_record(const chain *c, const mcpauth_audit_record *rec,
                                mcpauth_audit_verify_result *out)
{
    size_t canon_len;
    const char *hash;
    char want[MCPAUTH__AUDIT_HASH_HEX + 1];
    if (mcpauth__audit_split(rec->line, rec->line_len, &canon_len, &hash))
        return "the line does not end with its hash";
    mcpauth__audit_hash(rec->prev, rec->line, canon_len, want);
    if (memcmp(want, hash, MCPAUTH__AUDIT_HASH_HEX) != 0)
        return "the hash does not match the record: it was edited";
    if (!c->started) {
        out->first_seq = rec->seq;
        out->from_genesis = rec->seq == 1;
        if (rec->seq == 1 && strcmp(rec->prev, mcpauth__audit_genesis) != 0)
            return "the first record does not start the chain";
        return NULL;
    }
    if (rec->seq != c->seq + 1)
        return "out of sequence: a record was removed, inserted or moved "
               "before it";
    if (strcmp(rec->prev, c->hash) != 0)
        return "prev is not the previous record's hash: a record was "
               "removed, inserted or moved before it";
    return NULL;
}

static mcpauth_status fail_at(mcpauth_audit_verify_result *out,
                              const mcpauth_audit_reader *r,
                              mcpauth_error *err, const char *why)
{
    const char *file;
    uint64_t line;
    mcpauth__audit_reader_pos(r, &file, &line);
    mcpauth__strlcpy(out->bad_file, file ? file : "", sizeof(out->bad_file));
    out->bad_line = line;
    if (why)
        mcpauth__err(err, MCPAUTH_ECORRUPT, "%s:%llu: %s", out->bad_file,
                     (unsigned long long)line, why);
    return MCPAUTH_ECORRUPT;
}

static mcpauth_status walk(mcpauth_audit_reader *r, const char *anchor,
                           mcpauth_audit_verify_result *out,
                           mcpauth_error *err)
{
    chain c;
    memset(&c, 0, sizeof(c));
    for (;;) {
        const mcpauth_audit_record *rec;
        mcpauth_status st = mcpauth_audit_next(r, &rec, err);
        if (st == MCPAUTH_ENOTFOUND)
            break;
        if (st == MCPAUTH_ECORRUPT)
            return fail_at(out, r, NULL, NULL);
        if (st != MCPAUTH_OK)
            return st;
        const char *why = check_record(&c, rec, out);
        if (why)
            return fail_at(out, r, err, why);
        c.started = 1;
        c.seq = rec->seq;
        memcpy(c.hash, rec->hash, sizeof(c.hash));
        c.anchor_seen |= anchor && !strcmp(anchor, rec->hash);
        out->records++;
    }
    out->last_seq = c.seq;
    memcpy(out->last_hash, c.hash, sizeof(out->last_hash));
    if (anchor && !c.anchor_seen) {
        fail_at(out, r, NULL, NULL);
        out->bad_line++;
        return mcpauth__err(err, MCPAUTH_ECORRUPT,
                            "%s:%llu: no record carries the kept hash %.16s...: "
                            "records after it were removed (truncated log)",
                            out->bad_file, (unsigned long long)out->bad_line,
                            anchor);
    }
    return MCPAUTH_OK;
}

mcpauth_status mcpauth_audit_verify(const char *path, const char *anchor,
                                    mcpauth_audit_verify_result *out,
                                    mcpauth_error *err)
{
    mcpauth_audit_reader *r = NULL;
    memset(out, 0, sizeof(*out));
    mcpauth_status st = mcpauth_audit_open(&r, path, err);
    if (st == MCPAUTH_ECORRUPT)
        mcpauth__strlcpy(out->bad_file, path, sizeof(out->bad_file));
    if (st != MCPAUTH_OK)
        return st;
    out->files = (unsigned)mcpauth__audit_reader_nfiles(r);
    st = walk(r, anchor, out, err);
    mcpauth_audit_reader_free(r);
    return st;
}
