/* audit_files.h: which files make up an audit log (PATH.N ... PATH.1, PATH),
 * for the reader and verifier. */
#ifndef MCPAUTH_AUDIT_FILES_H
#define MCPAUTH_AUDIT_FILES_H

#include <stddef.h>

#include "mcpauth/mcpauth.h"

/* The log's files, oldest first, as new strings in *out (free each and the
 * array). MCPAUTH_ENOTFOUND when none exists, MCPAUTH_ECORRUPT when a
 * rotated file is missing between two that exist. */
mcpauth_status mcpauth__audit_files(const char *path, char ***out, size_t *n,
                                    mcpauth_error *err);
void mcpauth__audit_files_free(char **files, size_t n);

#endif
