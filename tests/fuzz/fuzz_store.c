/* fuzz_store.c: the key store loader on arbitrary file content, through
 * the public path: the input is written to a 0600 file in a 0700 directory
 * and opened with mcpauth_store_open. A store that loads is listed and a
 * key verified against it; one that does not must say why. */
#include "fuzz_common.h"
#include "mcpauth/mcpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[128];
    if (!path[0])
        snprintf(path, sizeof(path), "%s/keys.yaml", fz_dir());
    fz_write(path, data, size);
    mcpauth_store *s = NULL;
    mcpauth_error err;
    mcpauth_status st = mcpauth_store_open(&s, path, NULL, &err);
    if (st != MCPAUTH_OK) {
        if (s || !err.message[0])
            abort();
        return 0;
    }
    mcpauth_key_list *l = NULL;
    if (mcpauth_store_list(s, &l, &err) == MCPAUTH_OK) {
        if (l->count != mcpauth_store_count(s))
            abort();
        for (size_t i = 0; i < l->count; i++)
            if (!l->keys[i].id || !l->keys[i].name)
                abort();
        mcpauth_key_list_free(l);
    }
    mcpauth_key_verdict v;
    mcpauth_store_verify(s, "mcp_live_000000000000000000000000000000000000000000000000000000",
                         0, MCPAUTH_KEY_TYPE_LIVE, &v);
    if (v.release)
        v.release(v.release_arg);
    mcpauth_store_close(s);
    return 0;
}
