/* util.h: small helpers shared inside libmcpauth (not exported). */
#ifndef MCPAUTH_UTIL_H
#define MCPAUTH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mcpauth/mcpauth.h"

/* Set err (may be NULL) to status and a formatted message; returns status. */
mcpauth_status mcpauth__err(mcpauth_error *err, mcpauth_status status,
                            const char *fmt, ...) MCPAUTH_PRINTF(3, 4);
/* Copy with truncation, always NUL-terminated when cap > 0. */
size_t mcpauth__strlcpy(char *dst, const char *src, size_t cap);
char *mcpauth__strdup(const char *s);

/* Zeroed memory for a large array that decisions read at random (the key
 * store's table, records and strings). From MCPAUTH__BULK_HUGE bytes on it
 * is mapped on its own, aligned to and rounded up to that size, and
 * advised MADV_HUGEPAGE, so the array is covered by a few TLB entries: at
 * 100,000 keys every decision otherwise paid a page walk (two in a VM)
 * per array it read (docs/performance.md, round 5). Smaller sizes come
 * from calloc. Free with mcpauth__bulk_free and the same n. */
#define MCPAUTH__BULK_HUGE ((size_t)2 << 20)
/* 1 when large sizes are mapped as above. Not in AddressSanitizer builds,
 * which then check the arrays' bounds and leaks as they do any calloc'd
 * memory (they cannot see inside a mapping of their own). */
#if defined(__SANITIZE_ADDRESS__)
#define MCPAUTH__BULK_MAPPED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MCPAUTH__BULK_MAPPED 0
#endif
#endif
#ifndef MCPAUTH__BULK_MAPPED
#define MCPAUTH__BULK_MAPPED 1
#endif
void *mcpauth__bulk_alloc(size_t n);
void mcpauth__bulk_free(void *p, size_t n);
uint64_t mcpauth__mono_ns(void);

/* The directory part of a path ("." when there is none), into a new string. */
char *mcpauth__dirname(const char *path);
/* `rel` against directory `base` unless absolute; new string. */
char *mcpauth__path_join(const char *base, const char *rel);

/* Refuse a file or directory that group or others may write (and, when
 * `secret` is set, read): ssh's rule. The message names path and mode. */
mcpauth_status mcpauth__check_perms(const char *path, int secret,
                                    mcpauth_error *err);

/* Write `len` bytes to `path` atomically and durably: a temporary file in
 * the same directory with `mode`, fsync, rename over path, fsync the dir. */
mcpauth_status mcpauth__write_atomic(const char *path, const void *data,
                                     size_t len, mode_t mode,
                                     mcpauth_error *err);

/* mkdir -p with mode for every directory it creates. */
mcpauth_status mcpauth__mkdirs(const char *dir, mode_t mode,
                               mcpauth_error *err);

#endif
