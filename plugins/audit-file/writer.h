/*
 * writer.h: one audit log file and the thread that writes it.
 *
 * Callers format a record's fields (everything but seq, prev and hash) and
 * enqueue them; the writer numbers, chains, hashes and writes them in queue
 * order, from its own thread (or at once with fsync: always), and rotates
 * the file. Writers are shared per file: see writer.c for why.
 */
#ifndef AUDIT_FILE_WRITER_H
#define AUDIT_FILE_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef enum af_fsync {
    AF_FSYNC_NEVER = 0,
    AF_FSYNC_INTERVAL = 1,  /* at most once a second, from the thread */
    AF_FSYNC_ALWAYS = 2     /* before vote/observe/event return */
} af_fsync;

typedef struct af_settings {
    af_fsync fsync;
    uint64_t rotate_bytes;
    unsigned keep;
} af_settings;

typedef struct af_writer af_writer;

/* The writer for `path` (resolved, absolute or relative to the working
 * directory), shared with other instances on the same file; its settings
 * become `s`. A file that cannot be opened yet is not an error: the writer
 * starts failed and retries. NULL only when out of memory. */
af_writer *af_writer_acquire(const char *path, const af_settings *s);

/* Drop one reference after flushing. The last one stops the thread, writes
 * everything, syncs and closes. When it was the last, *last_seq and
 * last_hash (65 bytes) say where the chain ends; returns 1, else 0. */
int af_writer_release(af_writer *w, uint64_t *last_seq, char *last_hash);

/* Queue one record's fields (a JSON member list without braces, no
 * newline). Cheap: a mutex and a memcpy. */
void af_writer_enqueue(af_writer *w, const char *body, size_t len);

/* Write everything queued now, then fsync when do_fsync is set. */
void af_writer_flush(af_writer *w, int do_fsync);

/* Non-zero while the file cannot be written. */
int af_writer_failed(af_writer *w);

/* When there is news to log once (a failure or a recovery), copy it into
 * msg and return its level (0 error, 2 info); otherwise -1. */
int af_writer_take_report(af_writer *w, char *msg, size_t cap);

#endif
