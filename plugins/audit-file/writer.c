/* writer.c: see writer.h. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_line.h"
#include "mcpauth/common.h"

#define AF_FLUSH_BYTES (256u * 1024u)   /* wake the thread early past this */
#define AF_MAX_QUEUE (16u << 20)        /* drop (and count) past this */
#define AF_TAIL_MAX (1u << 20)          /* longest last line we resume from */
#define AF_NS 1000000000ull

/* Bytes of records, each a body followed by '\n'. */
typedef struct af_queue {
    char *p;
    size_t len;
    size_t cap;
} af_queue;

struct af_writer {
    af_writer *next;            /* registry list, under af_registry_mu */
    char *path;
    unsigned refs;
    pthread_t thread;

    pthread_mutex_t mu;         /* queue, settings, stop, kicked, report */
    pthread_cond_t wake;
    af_queue queue;
    uint64_t lost;              /* records dropped since the last note */
    int stop;
    int kicked;
    af_settings set;
    int report_level;
    char report_msg[512];
    atomic_int has_report;

    pthread_mutex_t io;         /* everything below; held while draining */
    af_queue batch;
    mcpauth__abuf out;
    int fd;
    uint64_t size;
    uint64_t seq;
    char hash[MCPAUTH__AUDIT_HASH_HEX + 1];
    uint64_t last_fsync_ns;
    /* Writes made, and how many of them an fsync is known to have put on
     * disk. A drain that must sync syncs whenever the two differ, even
     * while another thread's fsync is under way: that one may have begun
     * before this drain's records were written, or may yet fail. The
     * descriptors synced are duplicates of one open file, to which Linux
     * reports a write-back error once: an fsync that succeeds while
     * another fails proves nothing, so `synced` only moves when no fsync
     * failed since the successful one began (sync_errors). */
    uint64_t writes, synced, sync_errors;
    int failure_reported;
    atomic_int failed;
};

/*
 * Writers are process-wide, keyed by the file's path. A policy reload
 * creates the new policy's instances while the old ones still exist and may
 * still observe the last checks in flight; if each instance had its own file
 * handle and chain state, two chains would be appended to one file and the
 * log would fork (and fail verification). One refcounted writer per file
 * keeps one sequence and one chain however many instances use it. This is
 * the plugin's only global state.
 */
static pthread_mutex_t af_registry_mu = PTHREAD_MUTEX_INITIALIZER;
static af_writer *af_registry;

static uint64_t af_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * AF_NS + (uint64_t)ts.tv_nsec;
}

static int af_queue_reserve(af_queue *q, size_t n)
{
    if (q->cap - q->len >= n)
        return 0;
    size_t cap = q->cap ? q->cap : 4096;
    while (cap - q->len < n)
        cap *= 2;
    char *p = realloc(q->p, cap);
    if (!p)
        return -1;
    q->p = p;
    q->cap = cap;
    return 0;
}

/* Remember news for af_writer_take_report (mu held). */
static void af_set_report(af_writer *w, int level, const char *msg)
{
    w->report_level = level;
    snprintf(w->report_msg, sizeof(w->report_msg), "%s", msg);
    atomic_store(&w->has_report, 1);
}

/* The file cannot be written: fail, and say so once (io held). */
static void af_fail(af_writer *w, const char *fmt, ...)
    MCPAUTH_PRINTF(2, 3);
static void af_fail(af_writer *w, const char *fmt, ...)
{
    atomic_store(&w->failed, 1);
    if (w->failure_reported)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->failure_reported = 1;
    pthread_mutex_lock(&w->mu);
    af_set_report(w, 0, msg);
    pthread_mutex_unlock(&w->mu);
}

/* A write went through: clear the failure, and say so once (io held). */
static void af_recovered(af_writer *w)
{
    atomic_store(&w->failed, 0);
    if (!w->failure_reported)
        return;
    w->failure_reported = 0;
    char msg[512];
    snprintf(msg, sizeof(msg), "audit-file: %s is writable again", w->path);
    pthread_mutex_lock(&w->mu);
    af_set_report(w, 2, msg);
    pthread_mutex_unlock(&w->mu);
}

static int af_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* mkdir -p, 0700 for every directory created. */
static int af_mkdirs(const char *dir)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
        return ENAMETOOLONG;
    for (char *s = buf + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return errno;
        *s = c;
        if (!c)
            return 0;
    }
}

static void af_dirname(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static void af_fsync_dir(const char *path)
{
    char dir[PATH_MAX];
    af_dirname(path, dir, sizeof(dir));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Where the chain resumes: seq and hash of the last line of `buf`
 * (len bytes, ending just after a '\n'). 0, or -1 when it is not ours. */
static int af_parse_last(const char *buf, size_t len, uint64_t *seq,
                         char *hash)
{
    size_t end = len - 1, start = end;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    size_t canon;
    const char *h;
    if (mcpauth__audit_split(buf + start, end - start, &canon, &h) ||
        mcpauth__audit_seq(buf + start, end - start, seq))
        return -1;
    memcpy(hash, h, MCPAUTH__AUDIT_HASH_HEX);
    hash[MCPAUTH__AUDIT_HASH_HEX] = '\0';
    return 0;
}

/* Read the tail of fd (size bytes). A last line without its newline is a
 * record cut short by a crash: *good is where the file should end. Fills
 * seq/hash from the last complete line, or leaves them when there is none.
 * Returns NULL or why the file cannot be resumed. */
static const char *af_read_tail(int fd, uint64_t size, uint64_t *good,
                                uint64_t *seq, char *hash)
{
    size_t n = size < AF_TAIL_MAX ? (size_t)size : AF_TAIL_MAX;
    uint64_t base = size - n;
    const char *why = NULL;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return "out of memory";
    if (pread(fd, buf, n, (off_t)base) != (ssize_t)n) {
        why = "cannot read its last record";
        goto out;
    }
    size_t keep = n;
    while (keep > 0 && buf[keep - 1] != '\n')
        keep--;
    *good = base + keep;
    if (base > 0 && (keep == 0 || !memchr(buf, '\n', keep - 1)))
        why = "its last record is longer than 1 MiB";
    else if (keep > 0 && af_parse_last(buf, keep, seq, hash))
        why = "its last line is not an mcpauth audit record; refusing to "
              "append to it";
out:
    free(buf);
    return why;
}

/* Resume the chain from PATH.1 when PATH is new or empty (a crash right
 * after a rotation). */
static const char *af_resume_rotated(af_writer *w)
{
    char p[PATH_MAX];
    uint64_t good;
    snprintf(p, sizeof(p), "%s.1", w->path);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        why = af_read_tail(fd, (uint64_t)st.st_size, &good, &w->seq, w->hash);
    close(fd);
    return why;
}

static int af_open_fd(const char *path)
{
    return open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

/* Open (creating its directory) and find where the chain resumes (io held).
 * 0, or -1 after af_fail. */
static int af_open_file(af_writer *w)
{
    char dir[PATH_MAX];
    struct stat st;
    const char *why = NULL;
    uint64_t good = 0;
    af_dirname(w->path, dir, sizeof(dir));
    int e = af_mkdirs(dir);
    if (e) {
        af_fail(w, "audit-file: cannot create %s: %s", dir, strerror(e));
        return -1;
    }
    int fd = af_open_fd(w->path);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        af_fail(w, "audit-file: cannot open %s: %s", w->path,
                fd < 0 ? strerror(errno) : "not a regular file");
        goto fail;
    }
    w->seq = 0;
    memcpy(w->hash, mcpauth__audit_genesis, sizeof(w->hash));
    if (st.st_size > 0)
        why = af_read_tail(fd, (uint64_t)st.st_size, &good, &w->seq, w->hash);
    if (!why && good < (uint64_t)st.st_size && ftruncate(fd, (off_t)good))
        why = "cannot cut off its partial last record";
    if (!why && good == 0)
        why = af_resume_rotated(w);
    if (why) {
        af_fail(w, "audit-file: %s: %s", w->path, why);
        goto fail;
    }
    w->fd = fd;
    w->size = good;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

/* PATH -> PATH.1 -> ... -> PATH.keep, and a new PATH (io held). */
static int af_rotate(af_writer *w, const af_settings *s)
{
    char from[PATH_MAX], to[PATH_MAX];
    if (s->fsync != AF_FSYNC_NEVER) {
        if (fsync(w->fd) == 0) {
            w->synced = w->writes;
        } else {
            w->sync_errors++;
            af_fail(w, "audit-file: cannot fsync %s: %s", w->path,
                    strerror(errno));
        }
    }
    close(w->fd);
    w->fd = -1;
    for (unsigned i = s->keep + 1;; i++) {   /* left over from a larger keep */
        snprintf(to, sizeof(to), "%s.%u", w->path, i);
        if (unlink(to) != 0)
            break;
    }
    for (unsigned i = s->keep; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", w->path);
        else
            snprintf(from, sizeof(from), "%s.%u", w->path, i - 1);
        snprintf(to, sizeof(to), "%s.%u", w->path, i);
        if (rename(from, to) != 0 && errno != ENOENT) {
            af_fail(w, "audit-file: cannot rotate %s: %s", from, strerror(errno));
            return -1;
        }
    }
    if (s->keep == 0)
        unlink(w->path);
    w->fd = af_open_fd(w->path);
    if (w->fd < 0) {
        af_fail(w, "audit-file: cannot open %s: %s", w->path, strerror(errno));
        return -1;
    }
    w->size = 0;
    if (s->fsync != AF_FSYNC_NEVER)
        af_fsync_dir(w->path);
    return 0;
}

/* Write the first n bytes of w->out and commit the chain state they end
 * with (io held); what follows them moves to the front. */
static int af_flush_out(af_writer *w, size_t n, uint64_t seq, const char *hash)
{
    /* Nothing to write is not success when the lines could not be built
     * (out of memory): the batch must fail, be reported and be requeued,
     * not count as written. */
    if (n == 0 && !w->out.oom)
        return 0;
    int e = w->out.oom ? ENOMEM : af_write_all(w->fd, w->out.p, n);
    if (e) {
        /* Never leave half a record: the next one would join it. */
        if (ftruncate(w->fd, (off_t)w->size) != 0) {
            close(w->fd);
            w->fd = -1;
        }
        af_fail(w, "audit-file: cannot write %s: %s (records are kept in "
                "memory and written when it works again)", w->path,
                strerror(e));
        return -1;
    }
    w->size += n;
    w->seq = seq;
    memcpy(w->hash, hash, sizeof(w->hash));
    memmove(w->out.p, w->out.p + n, w->out.len - n);
    w->out.len -= n;
    w->writes++;
    af_recovered(w);
    return 0;
}

/* Append the full line for `body` to w->out, chained after (seq, prev); its
 * hash into `hash`. Built and hashed where it will be written from, in one
 * reservation: a separate line buffer cost one more copy of every record,
 * and seven bounds-checked appends. With the copy gone, af_drain takes
 * ~3,980 instructions a record instead of ~4,530, ~3,160 of them BLAKE2b. */
static void af_append_line(af_writer *w, const char *body, size_t n,
                           uint64_t seq, const char *prev, char *hash)
{
    static const char head[] = "{\"seq\":", mid[] = ",\"prev\":\"",
                      tail[] = ",\"hash\":\"";
    char num[MCPAUTH__U64_DIGITS_MAX];
    size_t digits;
    const char *seq_text = mcpauth__u64_text(num, seq, &digits);
    char *start = mcpauth__abuf_room(&w->out, n + digits + 200);
    if (!start)
        return;
    char *o = start;
#define AF_PUT(src, len) (memcpy(o, (src), (len)), o += (len))
    AF_PUT(head, sizeof(head) - 1);
    AF_PUT(seq_text, digits);
    *o++ = ',';
    AF_PUT(body, n);
    AF_PUT(mid, sizeof(mid) - 1);
    AF_PUT(prev, MCPAUTH__AUDIT_HASH_HEX);
    *o++ = '"';
    mcpauth__audit_hash(prev, start, (size_t)(o - start), hash);
    AF_PUT(tail, sizeof(tail) - 1);
    AF_PUT(hash, MCPAUTH__AUDIT_HASH_HEX);
    AF_PUT("\"}\n", 3);
#undef AF_PUT
    w->out.len += (size_t)(o - start);
}

/* Number, chain and write the batch, rotating as needed. Returns how many
 * bytes of the batch were written (the rest must be queued again). */
static size_t af_write_batch(af_writer *w, const af_settings *s)
{
    uint64_t seq = w->seq;
    char hash[MCPAUTH__AUDIT_HASH_HEX + 1];
    size_t pos = 0, done = 0;
    memcpy(hash, w->hash, sizeof(hash));
    w->out.len = 0;
    w->out.oom = 0;
    while (pos < w->batch.len) {
        const char *body = w->batch.p + pos;
        const char *nl = memchr(body, '\n', w->batch.len - pos);
        size_t n = (size_t)(nl - body), at = w->out.len;
        char h[MCPAUTH__AUDIT_HASH_HEX + 1];
        /* defined even when the line cannot be built (out of memory: the
         * batch then fails to write and nothing is committed) */
        memcpy(h, mcpauth__audit_genesis, sizeof(h));
        af_append_line(w, body, n, seq + 1, hash, h);
        if (w->size + w->out.len > s->rotate_bytes && w->size + at > 0) {
            if (af_flush_out(w, at, seq, hash) != 0)
                return done;
            done = pos;
            if (af_rotate(w, s) != 0)
                return done;
        }
        seq++;
        memcpy(hash, h, sizeof(hash));
        pos += n + 1;
    }
    return af_flush_out(w, w->out.len, seq, hash) == 0 ? pos : done;
}

/* Put the unwritten tail of the batch back in front of the queue, so that
 * order holds when the file works again. */
static void af_requeue(af_writer *w, size_t from)
{
    size_t n = w->batch.len - from;
    pthread_mutex_lock(&w->mu);
    if (af_queue_reserve(&w->queue, n) == 0) {
        memmove(w->queue.p + n, w->queue.p, w->queue.len);
        memcpy(w->queue.p, w->batch.p + from, n);
        w->queue.len += n;
    } else {
        for (size_t i = from; i < w->batch.len; i++)
            w->lost += w->batch.p[i] == '\n';
    }
    pthread_mutex_unlock(&w->mu);
    w->batch.len = 0;
}

/* The disk's part of af_drain, on fd, a duplicate of the log's descriptor
 * (or -1), once `io` is released: start the write-back of what was just
 * written (`range`), then fsync (`sync`), then close fd.
 * Performance: under a heavy write load an fsync that found all of the
 * last second's records still in memory took 110 to 190 ms. Under `io` it
 * held up every check that found the queue full (such a check waits for
 * `io` to write the queue itself). Starting the write-back with each batch
 * (it does not wait, unless the disk's queue is full) leaves the fsync
 * little to do, and neither call runs under `io`, so checks and the writer
 * thread keep writing meanwhile; the duplicate stays valid if a rotation
 * closes the original. What was written before the fsync began is on disk
 * when it returns, as before. */
static void af_to_disk(af_writer *w, int fd, int range, int sync,
                       uint64_t upto, uint64_t errors)
{
    if (fd < 0)
        return;
    if (range)
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    int err = sync && fsync(fd) != 0 ? errno : 0;
    close(fd);
    if (!sync)
        return;
    pthread_mutex_lock(&w->io);
    if (err) {
        w->sync_errors++;
        af_fail(w, "audit-file: cannot fsync %s: %s", w->path, strerror(err));
    } else if (w->sync_errors == errors && w->synced < upto) {
        w->synced = upto; /* the first `upto` writes are on disk */
    }
    pthread_mutex_unlock(&w->io);
}

/* Write out everything queued; with fsync: interval, start its write-back;
 * fsync when asked to or when the interval is due. */
static void af_drain(af_writer *w, int force_fsync)
{
    pthread_mutex_lock(&w->io);
    pthread_mutex_lock(&w->mu);
    af_queue t = w->batch;
    w->batch = w->queue;
    w->queue = t;
    w->queue.len = 0;
    af_settings s = w->set;
    pthread_mutex_unlock(&w->mu);
    int range = 0;
    if (w->batch.len > 0) {
        size_t done = w->fd >= 0 || af_open_file(w) == 0
                          ? af_write_batch(w, &s) : 0;
        if (done < w->batch.len)
            af_requeue(w, done);
        w->batch.len = 0;
        range = s.fsync == AF_FSYNC_INTERVAL && done > 0;
    }
    uint64_t now = af_mono_ns();
    int due = s.fsync == AF_FSYNC_INTERVAL && now - w->last_fsync_ns >= AF_NS;
    int sync = w->fd >= 0 && w->writes != w->synced && (force_fsync || due);
    uint64_t upto = w->writes, errors = w->sync_errors;
    int fd = w->fd >= 0 && (range || sync) ? fcntl(w->fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (sync) {
        w->last_fsync_ns = now;
        if (fd < 0)
            af_fail(w, "audit-file: cannot fsync %s: %s", w->path,
                    strerror(errno));
    }
    pthread_mutex_unlock(&w->io);
    af_to_disk(w, fd, range, sync, upto, errors);
}

static void *af_thread(void *arg)
{
    af_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (!w->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&w->wake, &w->mu, &ts);
        }
        w->kicked = 0;
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        af_drain(w, 0);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The registry key: the path with its directory made canonical, so that
 * "logs/a.log" and "./logs/a.log" share a writer. */
static char *af_canonical(const char *path)
{
    char dir[PATH_MAX], real[PATH_MAX];
    char *out = NULL;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    af_dirname(path, dir, sizeof(dir));
    (void)af_mkdirs(dir);
    if (realpath(dir, real) && asprintf(&out, "%s/%s", real, base) >= 0)
        return out;
    return strdup(path);
}

static void af_writer_free(af_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->io);
    free(w->queue.p);
    free(w->batch.p);
    mcpauth__abuf_free(&w->out);
    free(w->path);
    free(w);
}

static af_writer *af_writer_new(char *path, const af_settings *s)
{
    af_writer *w = calloc(1, sizeof(*w));
    pthread_condattr_t ca;
    if (!w) {
        free(path);
        return NULL;
    }
    w->path = path;
    w->refs = 1;
    w->set = *s;
    w->fd = -1;
    memcpy(w->hash, mcpauth__audit_genesis, sizeof(w->hash));
    mcpauth__abuf_init(&w->out, NULL, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->io, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    w->last_fsync_ns = af_mono_ns();
    pthread_mutex_lock(&w->io);
    (void)af_open_file(w);      /* a failure is reported and retried */
    pthread_mutex_unlock(&w->io);
    if (pthread_create(&w->thread, NULL, af_thread, w) != 0) {
        af_writer_free(w);
        return NULL;
    }
    return w;
}

af_writer *af_writer_acquire(const char *path, const af_settings *s)
{
    char *key = af_canonical(path);
    af_writer *w;
    if (!key)
        return NULL;
    pthread_mutex_lock(&af_registry_mu);
    for (w = af_registry; w && strcmp(w->path, key) != 0; w = w->next)
        ;
    if (w) {
        free(key);
        w->refs++;
        pthread_mutex_lock(&w->mu);
        w->set = *s;            /* the newest policy's settings win */
        pthread_mutex_unlock(&w->mu);
    } else if ((w = af_writer_new(key, s)) != NULL) {
        w->next = af_registry;
        af_registry = w;
    }
    pthread_mutex_unlock(&af_registry_mu);
    return w;
}

static void af_unlink_registry(af_writer *w)
{
    af_writer **pp = &af_registry;
    while (*pp != w)
        pp = &(*pp)->next;
    *pp = w->next;
}

/* The registry lock is held through the final flush so that a new writer
 * for the same file cannot open it before this one has written its last
 * record (it would resume from a stale tail and fork the chain). */
int af_writer_release(af_writer *w, uint64_t *last_seq, char *last_hash)
{
    pthread_mutex_lock(&w->mu);
    int do_fsync = w->set.fsync != AF_FSYNC_NEVER;
    pthread_mutex_unlock(&w->mu);
    /* Drain while this reference still holds the writer: once it is
     * dropped, the last holder may free it (an fsync can take long). */
    af_drain(w, do_fsync);
    pthread_mutex_lock(&af_registry_mu);
    int last = --w->refs == 0;
    if (!last) {
        pthread_mutex_unlock(&af_registry_mu);
        return 0;
    }
    af_unlink_registry(w);
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    af_drain(w, do_fsync);
    *last_seq = w->seq;
    memcpy(last_hash, w->hash, MCPAUTH__AUDIT_HASH_HEX + 1);
    af_writer_free(w);
    pthread_mutex_unlock(&af_registry_mu);
    return 1;
}

/* A note in the log itself that records were dropped (mu held). */
static void af_queue_lost_note(af_writer *w)
{
    char note[256], t[32];
    mcpauth_format_time_ms(mcpauth_now_ms(), t, sizeof(t));
    int n = snprintf(note, sizeof(note),
                     "\"time\":\"%s\",\"event\":\"audit.lost\",\"detail\":"
                     "\"%llu records were dropped: the log could not be "
                     "written and the queue was full\"\n",
                     t, (unsigned long long)w->lost);
    if (af_queue_reserve(&w->queue, (size_t)n) != 0)
        return;
    memcpy(w->queue.p + w->queue.len, note, (size_t)n);
    w->queue.len += (size_t)n;
    w->lost = 0;
}

/* A full queue while the file works means the writer thread is behind:
 * the caller writes the queue itself, which slows it down instead of losing
 * records. Only a failing file drops records (counted, and noted in the log
 * once it works again), so that a dead disk cannot block every request. */
void af_writer_enqueue(af_writer *w, const char *body, size_t len)
{
    pthread_mutex_lock(&w->mu);
    if (w->queue.len + len + 1 > AF_MAX_QUEUE && !af_writer_failed(w)) {
        pthread_mutex_unlock(&w->mu);
        af_drain(w, 0);
        pthread_mutex_lock(&w->mu);
    }
    if (w->lost && w->queue.len + len + 256 <= AF_MAX_QUEUE)
        af_queue_lost_note(w);
    if ((w->queue.len + len + 1 > AF_MAX_QUEUE && af_writer_failed(w)) ||
        af_queue_reserve(&w->queue, len + 1) != 0) {
        w->lost++;
    } else {
        memcpy(w->queue.p + w->queue.len, body, len);
        w->queue.p[w->queue.len + len] = '\n';
        w->queue.len += len + 1;
        if (w->queue.len >= AF_FLUSH_BYTES && !w->kicked) {
            w->kicked = 1;
            pthread_cond_signal(&w->wake);
        }
    }
    pthread_mutex_unlock(&w->mu);
}

void af_writer_flush(af_writer *w, int do_fsync)
{
    af_drain(w, do_fsync);
}

int af_writer_failed(af_writer *w)
{
    return atomic_load_explicit(&w->failed, memory_order_relaxed);
}

int af_writer_take_report(af_writer *w, char *msg, size_t cap)
{
    if (!atomic_load_explicit(&w->has_report, memory_order_relaxed))
        return -1;
    pthread_mutex_lock(&w->mu);
    int level = -1;
    if (atomic_load(&w->has_report)) {
        level = w->report_level;
        snprintf(msg, cap, "%s", w->report_msg);
        atomic_store(&w->has_report, 0);
    }
    pthread_mutex_unlock(&w->mu);
    return level;
}
