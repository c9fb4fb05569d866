/* fuzz_common.h: helpers shared by the libFuzzer targets. */
#ifndef MCPAUTH_FUZZ_COMMON_H
#define MCPAUTH_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The input as a NUL-terminated string (the parsers take C strings). */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A 0700 directory for this process, made once. */
static inline const char *fz_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/mcpauth-fuzz-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    return dir;
}

/* Write data to path (mode 0600), replacing it. */
static inline void fz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "w");
    if (!f || (size && fwrite(data, 1, size, f) != size))
        abort();
    fclose(f);
    chmod(path, 0600);
}

#endif
