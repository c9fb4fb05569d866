/* fuzz_audit_line.c: the audit line parser (core/audit_parse.c), which
 * `mcpauth audit show|verify` runs on every line of a log an attacker may
 * have edited. The arena is exactly the size the parser documents, so ASan
 * catches a write past it. */
#include "audit_parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *arena = malloc(size + 64);
    char *line = malloc(size ? size : 1);
    mcpauth_audit_record rec;
    if (!arena || !line)
        abort();
    memcpy(line, data, size);
    memset(&rec, 0, sizeof(rec));
    const char *why = mcpauth__audit_parse(line, size, arena, &rec);
    if (!why) {
        /* Every string the record holds lies inside the arena. */
        const char *const fields[] = { rec.time, rec.event, rec.reason, rec.plugin,
                                       rec.key_id, rec.client_ip, rec.tool, rec.prev,
                                       rec.hash, rec.detail };
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (fields[i] && (fields[i] < arena || fields[i] >= arena + size + 64 ||
                              strlen(fields[i]) >= size + 64))
                abort();
    }
    free(line);
    free(arena);
    return 0;
}
