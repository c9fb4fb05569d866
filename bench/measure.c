/* measure.c: timing decisions without letting the timing dominate. Each
 * thread runs mcpauth_check over its own preallocated request mix; every
 * decision is counted (throughput) and every Nth is timed with two clock
 * reads into a preallocated histogram (latency). The clock pair's own cost,
 * calibrated once, is taken off each sample. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

#define HIST_LINEAR 4096u   /* 1 ns buckets below 4.096 us */
#define HIST_SUB 64u        /* then 64 buckets per power of two (1.6%) */
#define HIST_TOP_EXP 47u    /* up to 2^48 ns */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_TOP_EXP - 11u) * HIST_SUB)
#define CHECK_EVERY 64      /* decisions between looks at the phase */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_timer_ns(void)
{
    static uint64_t cached;
    if (cached)
        return cached;
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 20000; i++) {
        uint64_t a = bench_now_ns();
        uint64_t d = bench_now_ns() - a;
        best = d < best ? d : best;
    }
    cached = best ? best : 1;
    return cached;
}

/* ---- histogram ---------------------------------------------------------- */

int bench_hist_init(bench_hist *h)
{
    h->n = h->max = 0;
    h->b = calloc(HIST_BUCKETS, sizeof(*h->b));
    return h->b ? 0 : -1;
}

static size_t hist_index(uint64_t v)
{
    if (v < HIST_LINEAR)
        return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    if (e > HIST_TOP_EXP)
        return HIST_BUCKETS - 1;
    unsigned sub = (unsigned)(v >> (e - 6)) & (HIST_SUB - 1);
    return HIST_LINEAR + (e - 12u) * HIST_SUB + sub;
}

static uint64_t hist_value(size_t i)
{
    if (i < HIST_LINEAR)
        return i;
    size_t k = i - HIST_LINEAR;
    unsigned e = 12u + (unsigned)(k / HIST_SUB);
    return (uint64_t)(HIST_SUB + k % HIST_SUB) << (e - 6);
}

void bench_hist_add(bench_hist *h, uint64_t ns)
{
    h->b[hist_index(ns)]++;
    h->n++;
    if (ns > h->max)
        h->max = ns;
}

void bench_hist_merge(bench_hist *into, const bench_hist *from)
{
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->n += from->n;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t bench_hist_pct(const bench_hist *h, double pct)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)((double)h->n * pct / 100.0);
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > want)
            return hist_value(i);
    }
    return h->max;
}

void bench_hist_free(bench_hist *h)
{
    free(h->b);
    h->b = NULL;
}

/* ---- process figures ---------------------------------------------------- */

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, field, n) && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

long bench_peak_rss_kb(void)
{
    long kb = status_kb("VmHWM");
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

long bench_rss_kb(void)
{
    return status_kb("VmRSS");
}

/* Linux resets VmHWM to the current RSS on "5" to clear_refs, so that each
 * scenario reports its own peak. */
void bench_reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

void bench_print_tail(const bench_scenario *sc, long long audit,
                      uint64_t expected)
{
    if (sc->audit)
        printf("\"audit_records\":%lld,\"audit_expected\":%llu,", audit,
               (unsigned long long)expected);
    printf("\"max_rss_kb\":%ld,\"loadavg\":%.2f}\n", bench_peak_rss_kb(),
           bench_loadavg());
    fflush(stdout);
}

double bench_loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* ---- threads ------------------------------------------------------------ */

enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

/* Each worker on cache lines of its own: its counters change on every
 * decision, and a neighbour sharing a line with them (ws[] is one array)
 * made the other thread miss on its own fields; `framework` with 2 threads
 * ran at 0.71 to 1.99 times 1 thread from one process to the next,
 * depending on where the stack put ws. 128 bytes: the pairs of lines an
 * adjacent-line prefetcher fetches together are not shared either. */
typedef struct worker {
    _Alignas(128) pthread_t tid;
    mcpauth *a;
    bench_mix *mix;
    int expect[4];            /* by bench_kind */
    uint64_t sample_mask, timer;
    atomic_int *phase;
    pthread_barrier_t *start;
    bench_hist h;
    uint64_t n, allowed, mismatches, warm, t0, t1, cpu0, cpu1;
} worker;

/* This thread's CPU time: on a shared machine, decisions per CPU second
 * say what the code costs, decisions per wall second what was left. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One decision, timed when it is the Nth. */
static inline void one(worker *w, const bench_req *q, uint64_t k)
{
    mcpauth_decision d;
    if ((k & w->sample_mask) == 0) {
        uint64_t s = bench_now_ns();
        mcpauth_check(w->a, &q->r, &d);
        uint64_t e = bench_now_ns() - s;
        bench_hist_add(&w->h, e > w->timer ? e - w->timer : 0);
    } else {
        mcpauth_check(w->a, &q->r, &d);
    }
    w->allowed += (uint64_t)d.allowed;
    w->mismatches += (uint64_t)(d.allowed != w->expect[q->kind]);
}

static void begin_measure(worker *w)
{
    w->warm = w->n;
    w->n = w->allowed = w->mismatches = 0;
    memset(w->h.b, 0, HIST_BUCKETS * sizeof(*w->h.b));
    w->h.n = w->h.max = 0;
    w->t0 = bench_now_ns();
    w->cpu0 = cpu_ns();
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    size_t mask = w->mix->n - 1, i = 0;
    int seen = PHASE_WARMUP;
    pthread_barrier_wait(w->start);
    for (;;) {
        for (int k = 0; k < CHECK_EVERY; k++, i++, w->n++)
            one(w, &w->mix->reqs[i & mask], w->n);
        int ph = atomic_load_explicit(w->phase, memory_order_relaxed);
        if (ph == seen)
            continue;
        if (seen == PHASE_WARMUP)
            begin_measure(w);
        if (ph == PHASE_STOP)
            break;
        seen = ph;
    }
    w->t1 = bench_now_ns();
    w->cpu1 = cpu_ns();
    return NULL;
}

void bench_sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void collect(worker *ws, int n, bench_result *out)
{
    bench_hist all;
    memset(out, 0, sizeof(*out));
    if (bench_hist_init(&all) != 0)
        return;
    for (int t = 0; t < n; t++) {
        worker *w = &ws[t];
        double secs = (double)(w->t1 - w->t0) / 1e9;
        double cpu = (double)(w->cpu1 - w->cpu0) / 1e9;
        out->cpu_rate += cpu > 0 ? (double)w->n / cpu : 0;
        out->decisions += w->n;
        out->total += w->n + w->warm;
        out->allowed += w->allowed;
        out->mismatches += w->mismatches;
        out->rate += secs > 0 ? (double)w->n / secs : 0;
        out->seconds = secs > out->seconds ? secs : out->seconds;
        bench_hist_merge(&all, &w->h);
    }
    out->p50 = bench_hist_pct(&all, 50);
    out->p99 = bench_hist_pct(&all, 99);
    out->p999 = bench_hist_pct(&all, 99.9);
    out->max = all.max;
    out->samples = all.n;
    bench_hist_free(&all);
}

int bench_run(mcpauth *a, const bench_scenario *sc, bench_mix *mixes,
              int nthreads, const bench_opts *o, bench_result *out)
{
    worker ws[BENCH_MAX_THREADS];
    pthread_barrier_t start;
    atomic_int phase = PHASE_WARMUP;
    int started = 0, rc = 0;
    memset(ws, 0, sizeof(ws));
    pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
    for (int t = 0; t < nthreads; t++) {
        worker *w = &ws[t];
        w->a = a;
        w->mix = &mixes[t];
        for (int k = 0; k < 4; k++)
            w->expect[k] = bench_expect_allow(sc, (bench_kind)k);
        w->sample_mask = o->sample - 1;
        w->timer = bench_timer_ns();
        w->phase = &phase;
        w->start = &start;
        if (bench_hist_init(&w->h) != 0)
            rc = -1;
    }
    for (int t = 0; rc == 0 && t < nthreads; t++) {
        if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0) {
            /* The threads already started wait at the barrier for this
             * one: nothing to measure, and no clean way back. */
            fprintf(stderr, "mcpauth-bench: cannot start thread %d\n", t + 1);
            exit(2);
        }
        started++;
    }
    if (rc == 0 && started == nthreads) {
        pthread_barrier_wait(&start);
        bench_sleep_s(o->warmup_s);
        atomic_store(&phase, PHASE_MEASURE);
        bench_sleep_s(o->duration_s);
        atomic_store(&phase, PHASE_STOP);
    }
    for (int t = 0; t < started; t++)
        pthread_join(ws[t].tid, NULL);
    if (rc == 0)
        collect(ws, nthreads, out);
    for (int t = 0; t < nthreads; t++)
        bench_hist_free(&ws[t].h);
    pthread_barrier_destroy(&start);
    return rc;
}
