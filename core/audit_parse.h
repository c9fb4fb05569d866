/* audit_parse.h: parse one audit line (a flat JSON object of strings,
 * integers, booleans and nulls) into a record. A hand-written parser for our
 * own format keeps libmcpauth free of a JSON library. */
#ifndef MCPAUTH_AUDIT_PARSE_H
#define MCPAUTH_AUDIT_PARSE_H

#include <stddef.h>

#include "mcpauth/audit.h"

/* Parse line[0..len) into *rec, decoding strings into `arena`, which must
 * hold at least len + 64 bytes. Returns NULL on success, or a static text
 * saying what is wrong. rec->line, file and lineno are left to the caller. */
const char *mcpauth__audit_parse(const char *line, size_t len, char *arena,
                                 mcpauth_audit_record *rec);

#endif
