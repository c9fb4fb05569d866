/* fuzz_store_split.c: a store file loaded in 2, 3 and 4 pieces against
 * the same file loaded whole (core/keystore_split.c). The oracle: when
 * the pieces are taken, the whole load succeeds with the same records;
 * when they are not, the result is the whole load's, status and message. */
#include <fcntl.h>
#include <sodium.h>

#include "fuzz_common.h"
#include "keystore_piece.h"
#include "snap_same.h"

static mcpauth_status load(const char *path, size_t size, unsigned pieces,
                           mcpauth__snap **snap, unsigned *used, mcpauth_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        abort();
    memset(err, 0, sizeof(*err));
    mcpauth_status st = mcpauth__store_read(path, fd, size, pieces, snap, used, err);
    close(fd);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[128];
    if (!path[0]) {
        snprintf(path, sizeof(path), "%s/keys.yaml", fz_dir());
        if (sodium_init() < 0) /* as mcpauth_store_open does, before threads */
            abort();
    }
    fz_write(path, data, size);
    static mcpauth_error ew, es;
    mcpauth__snap *whole = NULL;
    unsigned used;
    mcpauth_status sw = load(path, size, 1, &whole, &used, &ew);
    for (unsigned n = 2; n <= 4; n++) {
        mcpauth__snap *split = NULL;
        mcpauth_status ss = load(path, size, n, &split, &used, &es);
        if (used > 1 ? sw != MCPAUTH_OK || ss != MCPAUTH_OK ||
                           !snap_same(whole, split) || !snap_same(split, whole)
                     : ss != sw || strcmp(es.message, ew.message))
            abort();
        mcpauth__snap_unref(split);
    }
    mcpauth__snap_unref(whole);
    return 0;
}
