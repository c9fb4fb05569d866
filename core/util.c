/* util.c: errors, strings, paths, time and safe file writes. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

mcpauth_status mcpauth__err(mcpauth_error *err, mcpauth_status status,
                            const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return status;
}

size_t mcpauth__strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = src ? strlen(src) : 0;
    if (cap == 0)
        return n;
    size_t c = n < cap - 1 ? n : cap - 1;
    if (c)
        memcpy(dst, src, c);
    dst[c] = '\0';
    return n;
}

char *mcpauth__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static size_t bulk_len(size_t n)
{
    return (n + MCPAUTH__BULK_HUGE - 1) & ~(MCPAUTH__BULK_HUGE - 1);
}

void *mcpauth__bulk_alloc(size_t n)
{
    /* Sizes that rounding (below) would wrap around are refused first. */
    if (n > SIZE_MAX - 2 * MCPAUTH__BULK_HUGE)
        return NULL;
    if (!MCPAUTH__BULK_MAPPED || n < MCPAUTH__BULK_HUGE)
        return calloc(1, n ? n : 1);
    size_t len = bulk_len(n);
    /* One huge page more than needed, then the unaligned head and tail
     * unmapped: mmap itself only promises page alignment. */
    unsigned char *m = mmap(NULL, len + MCPAUTH__BULK_HUGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)m + MCPAUTH__BULK_HUGE - 1) & ~(uintptr_t)(MCPAUTH__BULK_HUGE - 1);
    size_t head = a - (uintptr_t)m;
    if (head)
        munmap(m, head);
    if (MCPAUTH__BULK_HUGE - head)
        munmap((void *)(a + len), MCPAUTH__BULK_HUGE - head);
    /* A hint: where transparent huge pages are off (or not built in,
     * EINVAL) the memory works the same in small pages. */
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)a, len, MADV_HUGEPAGE);
#endif
    return (void *)a;
}

void mcpauth__bulk_free(void *p, size_t n)
{
    if (!p)
        return;
    if (!MCPAUTH__BULK_MAPPED || n < MCPAUTH__BULK_HUGE)
        free(p);
    else
        munmap(p, bulk_len(n));
}

uint64_t mcpauth__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t mcpauth_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *mcpauth__dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return mcpauth__strdup(".");
    if (slash == path)
        return mcpauth__strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

char *mcpauth__path_join(const char *base, const char *rel)
{
    if (rel[0] == '/' || !base || !base[0])
        return mcpauth__strdup(rel);
    size_t a = strlen(base), b = strlen(rel);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, base, a);
    p[a] = '/';
    memcpy(p + a + 1, rel, b + 1);
    return p;
}

mcpauth_status mcpauth__check_perms(const char *path, int secret,
                                    mcpauth_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return mcpauth__err(err, MCPAUTH_EIO, "%s: %s", path, strerror(errno));
    mode_t bad = secret ? (S_IRWXG | S_IRWXO) : (S_IWGRP | S_IWOTH);
    if (st.st_mode & bad)
        return mcpauth__err(err, MCPAUTH_EPERM,
                            "%s: permissions %04o are too open (%s); refusing it",
                            path, (unsigned)(st.st_mode & 07777),
                            secret ? "others may read or write it"
                                   : "others may write it");
    return MCPAUTH_OK;
}

static mcpauth_status fsync_dir(const char *dir, mcpauth_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mcpauth__err(err, MCPAUTH_EIO, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return mcpauth__err(err, MCPAUTH_EIO, "fsync %s: %s", dir, strerror(e));
    return MCPAUTH_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

mcpauth_status mcpauth__write_atomic(const char *path, const void *data,
                                     size_t len, mode_t mode,
                                     mcpauth_error *err)
{
    mcpauth_status st = MCPAUTH_OK;
    char *dir = mcpauth__dirname(path);
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!dir || !tmp) {
        st = mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = mcpauth__err(err, MCPAUTH_EIO, "%s: cannot create a temporary file: %s",
                          path, strerror(errno));
        goto out;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        st = mcpauth__err(err, MCPAUTH_EIO, "%s: write failed: %s", path, strerror(e));
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        st = mcpauth__err(err, MCPAUTH_EIO, "%s: %s", path, strerror(e));
        goto out;
    }
    st = fsync_dir(dir, err);
out:
    free(dir);
    free(tmp);
    return st;
}

mcpauth_status mcpauth__mkdirs(const char *dir, mode_t mode, mcpauth_error *err)
{
    char *p = mcpauth__strdup(dir);
    if (!p)
        return mcpauth__err(err, MCPAUTH_ENOMEM, "out of memory");
    mcpauth_status st = MCPAUTH_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            st = mcpauth__err(err, MCPAUTH_EIO, "mkdir %s: %s", p, strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return st;
}
