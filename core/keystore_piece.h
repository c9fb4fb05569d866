/*
 * keystore_piece.h: a store file parsed piece by piece, each piece by its
 * own libyaml parser (keystore_load.c), so that a large store loads on
 * several threads (keystore_split.c).
 */
#ifndef MCPAUTH_KEYSTORE_PIECE_H
#define MCPAUTH_KEYSTORE_PIECE_H

#include <yaml.h>

#include "keystore.h"

/* A piece is bytes [off, end) of fd (end 0: to the end of the file). The
 * first ("head") holds the document's start and the first records of its
 * `keys` list; each other piece holds records only, as a list of its own.
 * What the parse found is kept so that keystore_split.c can check that
 * the piece is what a parse of the whole file sees there. */
typedef struct mcpauth__piece {
    /* in */
    const char *name;       /* the file, for messages */
    int fd;
    off_t off, end;
    int head;
    size_t reserve;         /* bytes the records may span: room is made for
                               that many at once (keystore_load.c) */
    /* out */
    mcpauth_status st;
    mcpauth_error err;
    mcpauth__snap *snap;    /* the records, in order, not indexed */
    int list_block, short_read; /* a block list was seen; the piece
                               was not read to its end */
    yaml_mark_t list_mark, list_end_mark, end_mark; /* where the list
                               starts and ends, and where the piece ends */
} mcpauth__piece;

/* Parse pc: pc->st and pc->err say how it went; the rest is set even on
 * failure, for mcpauth__piece_free. */
void mcpauth__piece_parse(mcpauth__piece *pc);
void mcpauth__piece_free(mcpauth__piece *pc);

/* The whole file on this thread: path for messages, fd positioned
 * anywhere, size its size when opened (a hint for room). */
mcpauth_status mcpauth__store_read_whole(const char *path, int fd, size_t size,
                                         mcpauth__snap **out, mcpauth_error *err);

/* The file in up to `pieces` pieces on as many threads, each cut at a
 * line that starts a record; parsed whole on this thread instead when it
 * cannot be cut so, or when any piece is not exactly what a whole parse
 * sees there (any error included: a broken file is reported by the whole
 * parse, as ever). *used, when not NULL, gets the number of pieces the
 * snapshot came from (1: parsed whole). */
mcpauth_status mcpauth__store_read(const char *path, int fd, size_t size,
                                   unsigned pieces, mcpauth__snap **out,
                                   unsigned *used, mcpauth_error *err);

/* How many pieces a file of `size` bytes is loaded in: at most one per
 * MiB, one per CPU the calling thread may run on (its affinity; a cgroup's
 * CPU quota is not seen) less `spare`, and 4; at least 1. The pieces are
 * of equal size. */
unsigned mcpauth__store_pieces(size_t size, unsigned spare);

#endif
