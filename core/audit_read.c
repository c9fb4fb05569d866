/* audit_read.c: the audit log reader of mcpauth/audit.h, and its filter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_files.h"
#include "audit_parse.h"
#include "audit_read.h"
#include "util.h"

struct mcpauth_audit_reader {
    char **files;            /* oldest first */
    size_t nfiles;
    size_t cur;              /* index of the open file */
    FILE *f;
    uint64_t lineno;
    char *line;
    size_t line_cap;
    char *arena;             /* decoded strings of the current record */
    size_t arena_cap;
    mcpauth_audit_record rec;
};

mcpauth_status mcpauth_audit_open(mcpauth_audit_reader **out,
                                  const char *path, mcpauth_error *err)
{
    *out = NULL;
    mcpauth_audit_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    mcpauth_status st = mcpauth__audit_files(path, &r->files, &r->nfiles, err);
    if (st != MCPAUTH_OK) {
        free(r);
        return st;
    }
    *out = r;
    return MCPAUTH_OK;
}

void mcpauth_audit_reader_free(mcpauth_audit_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    mcpauth__audit_files_free(r->files, r->nfiles);
    free(r->line);
    free(r->arena);
    free(r);
}

/* Read the next raw line across files into r->line; its length in *len
 * (newline removed) and whether it had one. ENOTFOUND after the last. */
static mcpauth_status read_line(mcpauth_audit_reader *r, size_t *len,
                                int *newline, mcpauth_error *err)
{
    for (;;) {
        if (!r->f) {
            if (r->cur >= r->nfiles)
                return MCPAUTH_ENOTFOUND;
            r->f = fopen(r->files[r->cur], "rb");
            r->lineno = 0;
            if (!r->f)
                return mcpauth__err(err, MCPAUTH_EIO, "%s: %s",
                                    r->files[r->cur], strerror(errno));
        }
        ssize_t n = getline(&r->line, &r->line_cap, r->f);
        if (n >= 0) {
            r->lineno++;
            *newline = n > 0 && r->line[n - 1] == '\n';
            *len = (size_t)n - (size_t)*newline;
            return MCPAUTH_OK;
        }
        int bad = ferror(r->f);
        fclose(r->f);
        r->f = NULL;
        if (bad)
            return mcpauth__err(err, MCPAUTH_EIO, "%s: read error",
                                r->files[r->cur++]);
        r->cur++;
    }
}

static mcpauth_status corrupt(mcpauth_audit_reader *r, mcpauth_error *err,
                              const char *why)
{
    return mcpauth__err(err, MCPAUTH_ECORRUPT, "%s:%llu: %s",
                        r->files[r->cur], (unsigned long long)r->lineno, why);
}

mcpauth_status mcpauth_audit_next(mcpauth_audit_reader *r,
                                  const mcpauth_audit_record **out,
                                  mcpauth_error *err)
{
    size_t len = 0;
    int newline = 0;
    *out = NULL;
    mcpauth_status st = read_line(r, &len, &newline, err);
    if (st != MCPAUTH_OK)
        return st;
    if (!newline)
        return corrupt(r, err, "the last record is cut short (no newline)");
    if (r->arena_cap < len + 64) {
        char *a = realloc(r->arena, len + 64);
        if (!a)
            return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
        r->arena = a;
        r->arena_cap = len + 64;
    }
    const char *why = mcpauth__audit_parse(r->line, len, r->arena, &r->rec);
    if (why) {
        char msg[160];
        snprintf(msg, sizeof(msg), "not an audit record (%s)", why);
        return corrupt(r, err, msg);
    }
    r->rec.line = r->line;
    r->rec.line_len = len;
    r->line[len] = '\0';
    r->rec.file = r->files[r->cur];
    r->rec.lineno = r->lineno;
    *out = &r->rec;
    return MCPAUTH_OK;
}

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int mcpauth_audit_match(const mcpauth_audit_filter *f,
                        const mcpauth_audit_record *rec)
{
    if (f->since_ms && rec->time_ms < f->since_ms)
        return 0;
    if (f->decision >= 0 &&
        (!rec->is_decision || rec->allowed != (f->decision != 0)))
        return 0;
    if (f->key_id && !str_eq(f->key_id, rec->key_id))
        return 0;
    if (f->reason && !str_eq(f->reason, rec->reason))
        return 0;
    if (f->event && !str_eq(f->event, rec->event))
        return 0;
    return 1;
}

void mcpauth__audit_reader_pos(const mcpauth_audit_reader *r,
                               const char **file, uint64_t *line)
{
    size_t i = r->f || r->cur == 0 ? r->cur : r->cur - 1;
    *file = i < r->nfiles ? r->files[i] : NULL;
    *line = r->lineno;
}

size_t mcpauth__audit_reader_nfiles(const mcpauth_audit_reader *r)
{
    return r->nfiles;
}
