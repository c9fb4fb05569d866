/* audit_read.h: what the verifier needs to know about a reader beyond the
 * public API. */
#ifndef MCPAUTH_AUDIT_READ_H
#define MCPAUTH_AUDIT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "mcpauth/audit.h"

/* The file and line the reader last read (file NULL before the first). */
void mcpauth__audit_reader_pos(const mcpauth_audit_reader *r,
                               const char **file, uint64_t *line);
/* How many files the log has. */
size_t mcpauth__audit_reader_nfiles(const mcpauth_audit_reader *r);

#endif
