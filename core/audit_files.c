/* audit_files.c: see audit_files.h. */
#include "audit_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* N when `name` is `base` "." N with N a positive decimal without leading
 * zeros; 0 otherwise. */
static unsigned long rotated_index(const char *name, const char *base)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || name[bl] != '.')
        return 0;
    const char *d = name + bl + 1;
    if (*d < '1' || *d > '9' || strlen(d) > 6)
        return 0;
    unsigned long v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return 0;
        v = v * 10 + (unsigned long)(*d - '0');
    }
    return v;
}

/* The highest rotated index present in dir, or 0. */
static mcpauth_status highest_rotated(const char *dir, const char *base,
                                      unsigned long *max, mcpauth_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return mcpauth__err(err, errno == ENOENT ? MCPAUTH_ENOTFOUND
                                                 : MCPAUTH_EIO,
                            "%s: %s", dir, strerror(errno));
    struct dirent *e;
    *max = 0;
    while ((e = readdir(d)) != NULL) {
        unsigned long i = rotated_index(e->d_name, base);
        if (i > *max)
            *max = i;
    }
    closedir(d);
    return MCPAUTH_OK;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

void mcpauth__audit_files_free(char **files, size_t n)
{
    for (size_t i = 0; files && i < n; i++)
        free(files[i]);
    free(files);
}

/* Fill files[] with PATH.max ... PATH.1 (each must exist), then PATH when
 * it exists. */
static mcpauth_status list_files(const char *path, unsigned long max,
                                 char **files, size_t *n, mcpauth_error *err)
{
    for (unsigned long i = max; i >= 1; i--) {
        char *p = NULL;
        if (asprintf(&p, "%s.%lu", path, i) < 0)
            return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
        files[(*n)++] = p;
        if (!file_exists(p))
            return mcpauth__err(err, MCPAUTH_ECORRUPT,
                                "%s is missing (%s.%lu exists): a rotated "
                                "file was removed", p, path, max);
    }
    if (file_exists(path)) {
        files[*n] = mcpauth__strdup(path);
        if (!files[*n])
            return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
        (*n)++;
    }
    return MCPAUTH_OK;
}

mcpauth_status mcpauth__audit_files(const char *path, char ***out, size_t *n,
                                    mcpauth_error *err)
{
    char *dir = mcpauth__dirname(path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    unsigned long max = 0;
    char **files = NULL;
    *out = NULL;
    *n = 0;
    mcpauth_status st = dir ? highest_rotated(dir, base, &max, err)
                            : mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    if (st != MCPAUTH_OK)
        goto out;
    files = calloc(max + 1, sizeof(*files));
    if (!files) {
        st = mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
        goto out;
    }
    st = list_files(path, max, files, n, err);
    if (st == MCPAUTH_OK && *n == 0)
        st = mcpauth__err(err, MCPAUTH_ENOTFOUND, "%s: no such audit log",
                          path);
out:
    if (st != MCPAUTH_OK) {
        mcpauth__audit_files_free(files, *n);
        files = NULL;
        *n = 0;
    }
    *out = files;
    free(dir);
    return st;
}
