/* fuzz_keyparse.c: the key text parser (core/keyformat.c) and
 * mcpauth_store_verify on a store holding two keys. Oracles: a text the
 * parser accepts has a base62 body of the right length and a prefix it
 * reports correctly; verify never allows anything but the two keys. */
#include "fuzz_common.h"
#include "keyformat.h"
#include "mcpauth/mcpauth.h"

static mcpauth_store *store;
static char keys[2][MCPAUTH_KEY_TEXT_MAX];

static void fz_init(void)
{
    char path[128];
    mcpauth_error err;
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    mcpauth_key_spec spec = MCPAUTH_KEY_SPEC_INIT;
    snprintf(path, sizeof(path), "%s/keys.yaml", fz_dir());
    o.flags = MCPAUTH_STORE_CREATE;
    spec.name = "fuzz";
    if (mcpauth_store_open(&store, path, &o, &err) ||
        mcpauth_store_create(store, &spec, 0, keys[0], sizeof keys[0], NULL, &err))
        abort();
    spec.type = "test";
    if (mcpauth_store_create(store, &spec, 0, keys[1], sizeof keys[1], NULL, &err))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        fz_init();
    char *text = fz_cstr(data, size);
    mcpauth__key_parts kp;
    mcpauth__key_fault f =
        mcpauth__key_parse(text, strnlen(text, MCPAUTH_KEY_TEXT_MAX), &kp);
    if (!mcpauth__key_fault_name(f))
        abort();
    if (f == MCPAUTH__KEY_WELLFORMED &&
        (kp.len != strlen(text) || kp.prefix_len == 0 ||
         kp.prefix_len > MCPAUTH__KEY_PREFIX_MAX ||
         !(kp.type == MCPAUTH_KEY_TYPE_LIVE || kp.type == MCPAUTH_KEY_TYPE_TEST)))
        abort();
    mcpauth_key_verdict v;
    mcpauth_store_verify(store, text, 0, MCPAUTH_KEY_TYPE_LIVE | MCPAUTH_KEY_TYPE_TEST, &v);
    if (v.reason == MCPAUTH_REASON_OK && strcmp(text, keys[0]) && strcmp(text, keys[1]))
        abort(); /* something other than a real key was accepted */
    if (v.release)
        v.release(v.release_arg);
    free(text);
    return 0;
}
