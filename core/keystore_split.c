/*
 * keystore_split.c: a large store file parsed on several threads.
 *
 * A 100,000-key store is 20 MB of YAML, and libyaml's parse is nine
 * tenths of its load (docs/performance.md). The records are the items of
 * one block list and do not depend on each other. So the file is cut at
 * lines that start an item. Each piece is parsed by its own libyaml
 * parser on its own thread, and the records are joined in file order
 * and indexed once.
 *
 * A cut is a guess made from the text. The result stands only if every
 * piece is what one parse of the whole file sees in its place:
 *   - the head's `keys` list is a block list with its items at the cut's
 *     column, and nothing but blanks and comments follows it;
 *   - every other piece is one block list at that column, and nothing
 *     follows it;
 *   - every piece was read to its end.
 * Why that is enough: at its end, the head's parser has closed all but
 * the list. A quoted scalar or a flow collection still open at the end of
 * a piece is an error. A plain or block scalar still open in the last
 * item ends, in the whole file too, at the next line indented no more
 * than the list's items. So the parse of the whole file reaches the cut
 * between two items of the list, which is where the next piece's parser
 * starts.
 * Otherwise, and when any piece fails to parse, the file is parsed whole
 * on the calling thread. So a broken file gets the same error as before.
 */
#include "keystore_piece.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    SPLIT_MAX = 4,              /* pieces at most (only 2 CPUs were measured) */
    SPLIT_WINDOW = 65536,       /* bytes searched for a cut */
};
#define SPLIT_PIECE_MIN ((size_t)1 << 20) /* ~5,000 records */

unsigned mcpauth__store_pieces(size_t size, unsigned spare)
{
    cpu_set_t set;
    size_t cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? (size_t)CPU_COUNT(&set) : 1;
    cpus = cpus > spare ? cpus - spare : 0;
    size_t n = size / SPLIT_PIECE_MIN;
    if (n > cpus)
        n = cpus;
    if (n > SPLIT_MAX)
        n = SPLIT_MAX;
    return n ? (unsigned)n : 1;
}

/* The first line at or after buf + from that is `col` spaces (any number
 * when col < 0), '-' and a space or line end: an item of a block list.
 * A line starts at buf's start only when at_start. Returns the line's
 * offset, -1 when none ends inside the n bytes; *found: its column. */
static long item_line(const char *buf, size_t n, size_t from, int at_start,
                      long col, long *found)
{
    for (size_t i = from; i < n; i++) {
        if (!(i == 0 ? at_start : buf[i - 1] == '\n'))
            continue;
        size_t j = i;
        while (j < n && buf[j] == ' ')
            j++;
        if (j + 1 >= n || buf[j] != '-' ||
            (buf[j + 1] != ' ' && buf[j + 1] != '\n' && buf[j + 1] != '\r'))
            continue;
        if (col < 0 || (long)(j - i) == col) {
            *found = (long)(j - i);
            return (long)i;
        }
    }
    return -1;
}

/* Up to SPLIT_WINDOW bytes of fd at off into buf; their number, -1 on error. */
static long window_read(int fd, off_t off, char *buf)
{
    size_t got = 0;
    while (got < SPLIT_WINDOW) {
        ssize_t r = pread(fd, buf + got, SPLIT_WINDOW - got, off + (off_t)got);
        if (r == 0)
            break;
        if (r < 0)
            return -1;
        got += (size_t)r;
    }
    return (long)got;
}

/* cut[0] = 0 and cut[1..n-1]: where pieces 1..n-1 start, one near each
 * i/n of the file, all at the column of the first item line of the file;
 * *col gets that column. 0, or -1 when the file cannot be cut so. */
static int find_cuts(int fd, size_t size, unsigned n, off_t *cut, long *col)
{
    char *buf = malloc(SPLIT_WINDOW);
    long got = buf ? window_read(fd, 0, buf) : -1;
    /* libyaml reads UTF-16 only after a byte order mark; such a file is
     * parsed whole (its line breaks are not the bytes searched for). */
    int ok = got >= 2 && !((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF) &&
             !((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) &&
             item_line(buf, (size_t)got, 0, 1, -1, col) >= 0;
    cut[0] = 0;
    for (unsigned i = 1; ok && i < n; i++) {
        /* From the byte before the target, so a line starting there counts. */
        off_t at = (off_t)(size / n * i) - 1;
        long line, c;
        ok = at >= 0 && (got = window_read(fd, at, buf)) > 0 &&
             (line = item_line(buf, (size_t)got, 1, 0, *col, &c)) >= 0 &&
             at + line > cut[i - 1];
        if (ok)
            cut[i] = at + line;
    }
    free(buf);
    return ok ? 0 : -1;
}

static void *piece_main(void *arg)
{
    mcpauth__piece_parse(arg);
    return NULL;
}

/* Pieces 1..n-1 on threads of their own, the head on this one; a piece
 * whose thread cannot start is parsed here too. */
static void pieces_run(mcpauth__piece *pc, unsigned n)
{
    pthread_t t[SPLIT_MAX];
    int started[SPLIT_MAX] = { 0 };
    for (unsigned i = 1; i < n; i++)
        started[i] = pthread_create(&t[i], NULL, piece_main, &pc[i]) == 0;
    mcpauth__piece_parse(&pc[0]);
    for (unsigned i = 1; i < n; i++) {
        if (started[i])
            pthread_join(t[i], NULL);
        else
            mcpauth__piece_parse(&pc[i]);
    }
}

/* The checks at the top of this file, for one piece. The list ends
 * where the piece does when no token follows it: not a key, nor a "..."
 * that ends the document. In a valid store the first item line is the
 * list's first item, so its column is the list's; the column is still
 * checked, so that the argument above holds for any file. */
static int piece_agrees(const mcpauth__piece *pc, long col)
{
    return pc->st == MCPAUTH_OK && !pc->short_read && pc->list_block &&
           (long)pc->list_mark.column == col &&
           pc->list_end_mark.index == pc->end_mark.index;
}

/* pc's records after s's, their strings by taking over its arena. */
static void piece_append(mcpauth__snap *s, mcpauth__piece *pc)
{
    mcpauth__snap *t = pc->snap;
    memcpy(s->keys + s->count, t->keys, t->count * sizeof(*t->keys));
    memcpy(s->hashes + s->count, t->hashes, t->count * sizeof(*t->hashes));
    s->count += t->count;
    mcpauth__arena_adopt(&s->arena, &t->arena);
}

/* All the records into the head's snapshot, indexed; it goes to *out. A
 * duplicate id fails here without a message: the whole parse that
 * follows reports it at its line. */
static int pieces_join(mcpauth__piece *pc, unsigned n, mcpauth__snap **out)
{
    mcpauth__snap *s = pc[0].snap;
    size_t total = 0, dup;
    for (unsigned i = 0; i < n; i++)
        total += pc[i].snap->count;
    if (mcpauth__snap_reserve(s, total) != MCPAUTH_OK)
        return -1;
    for (unsigned i = 1; i < n; i++)
        piece_append(s, &pc[i]);
    if (mcpauth__snap_index(s, &dup) != MCPAUTH_OK)
        return -1;
    *out = s;
    pc[0].snap = NULL;
    return 0;
}

/* The file in n pieces; -1 (nothing to *out) when it could not be so. */
static int split_parse(const char *path, int fd, size_t size, unsigned n,
                       mcpauth__snap **out)
{
    off_t cut[SPLIT_MAX];
    long col;
    if (find_cuts(fd, size, n, cut, &col) != 0)
        return -1;
    mcpauth__piece pc[SPLIT_MAX];
    memset(pc, 0, sizeof(pc));
    for (unsigned i = 0; i < n; i++) {
        pc[i].name = path;
        pc[i].fd = fd;
        pc[i].off = cut[i];
        pc[i].end = i + 1 < n ? cut[i + 1] : 0;
        pc[i].head = i == 0;
        /* The head makes room for the whole file's records: the join then
         * copies the others' in place. */
        pc[i].reserve = i == 0 ? size : (size_t)((i + 1 < n ? cut[i + 1] : (off_t)size) - cut[i]);
    }
    pieces_run(pc, n);
    int ok = 1;
    for (unsigned i = 0; i < n; i++)
        ok = ok && piece_agrees(&pc[i], col);
    ok = ok && pieces_join(pc, n, out) == 0;
    for (unsigned i = 0; i < n; i++)
        mcpauth__piece_free(&pc[i]);
    return ok ? 0 : -1;
}

mcpauth_status mcpauth__store_read(const char *path, int fd, size_t size,
                                   unsigned pieces, mcpauth__snap **out,
                                   unsigned *used, mcpauth_error *err)
{
    *out = NULL;
    if (pieces > SPLIT_MAX)
        pieces = SPLIT_MAX;
    if (pieces > 1 && split_parse(path, fd, size, pieces, out) == 0) {
        if (used)
            *used = pieces;
        return MCPAUTH_OK;
    }
    if (used)
        *used = 1;
    return mcpauth__store_read_whole(path, fd, size, out, err);
}
