/* scaling.c: how much a second thread adds, measured in alternation.
 *
 * On this kind of machine (two vCPUs of a shared host) the rate of one
 * thread moves by a third from one minute to the next, so a 1-thread run
 * followed by a 2-thread run compares two different machines: `full` came
 * out anywhere from 1.29 to 2.13 times in back-to-back runs of one build.
 * Here short 1-thread and 2-thread phases alternate, in both orders, and
 * the ratio is taken over the sums, so both sides see the same host.
 *
 * A control runs in the same alternation: each thread hashes its own
 * buffer with BLAKE2b (the hash apikey runs on every key) and shares no
 * memory with the other. Its ratio is what the host gave a second thread
 * at that time; the scenario's ratio can be read against it. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define CONTROL_EVERY 64 /* hashes between looks at the stop flag */

/* One control thread, on cache lines of its own (see measure.c). */
typedef struct ctl_worker {
    _Alignas(128) pthread_t tid;
    atomic_int *stop;
    atomic_ullong n;
} ctl_worker;

static void *ctl_main(void *arg)
{
    ctl_worker *w = arg;
    unsigned char buf[64], out[32];
    memset(buf, (int)(uintptr_t)w & 0xff, sizeof(buf));
    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        for (int k = 0; k < CONTROL_EVERY; k++) {
            crypto_generichash(out, sizeof(out), buf, sizeof(buf), NULL, 0);
            buf[k & 31] ^= out[0];
        }
        atomic_fetch_add_explicit(&w->n, CONTROL_EVERY, memory_order_relaxed);
    }
    return NULL;
}

static uint64_t ctl_count(ctl_worker *ws, int n)
{
    uint64_t c = 0;
    for (int t = 0; t < n; t++)
        c += atomic_load_explicit(&ws[t].n, memory_order_relaxed);
    return c;
}

/* Hashes per second over `secs` on n threads, after `warm` seconds. */
static double ctl_run(int n, double warm, double secs)
{
    ctl_worker ws[2];
    atomic_int stop = 0;
    int started = 0;
    double rate = -1;
    memset(ws, 0, sizeof(ws));
    for (int t = 0; t < n; t++) {
        ws[t].stop = &stop;
        if (pthread_create(&ws[t].tid, NULL, ctl_main, &ws[t]) != 0)
            break;
        started++;
    }
    if (started == n) {
        bench_sleep_s(warm);
        uint64_t c0 = ctl_count(ws, n), t0 = bench_now_ns();
        bench_sleep_s(secs);
        uint64_t c1 = ctl_count(ws, n), t1 = bench_now_ns();
        rate = (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < started; t++)
        pthread_join(ws[t].tid, NULL);
    return rate;
}

/* What the alternation adds up. */
typedef struct scal_sums {
    double rate[2], ctl[2];   /* summed over rounds, by threads - 1 */
    double *ratio, *ctl_ratio; /* each round's */
    uint64_t decisions, total, mismatches;
} scal_sums;

/* One round: both thread counts of the scenario and of the control, the
 * order reversed every other round so that neither side always goes first. */
static int scal_round(mcpauth *a, const bench_job *j, unsigned r, scal_sums *s)
{
    const bench_opts *o = j->o;
    bench_opts p = *o;
    double rate[2], ctl[2];
    p.warmup_s = o->scaling_phase_s / 5;
    p.duration_s = o->scaling_phase_s;
    for (int k = 0; k < 2; k++) {
        int t = (r & 1) ? 2 - k : 1 + k;
        bench_result res;
        if (bench_run(a, j->sc, j->mixes, t, &p, &res) != 0)
            return -1;
        rate[t - 1] = res.rate;
        s->decisions += res.decisions;
        s->total += res.total;
        s->mismatches += res.mismatches;
        if ((ctl[t - 1] = ctl_run(t, p.warmup_s, p.duration_s)) <= 0)
            return -1;
    }
    for (int t = 0; t < 2; t++)
        s->rate[t] += rate[t], s->ctl[t] += ctl[t];
    s->ratio[r] = rate[1] / rate[0];
    s->ctl_ratio[r] = ctl[1] / ctl[0];
    return 0;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void scal_print(const bench_scenario *sc, const bench_opts *o,
                       scal_sums *s, long long audit)
{
    unsigned n = o->scaling_rounds;
    printf("{\"scenario\":\"scaling\",\"of\":\"%s\",\"rounds\":%u,"
           "\"phase_s\":%.3f,\"decisions\":%llu,\"mismatches\":%llu,"
           "\"decisions_per_s_1\":%.0f,\"decisions_per_s_2\":%.0f,"
           "\"scaling\":%.3f,",
           sc->name, n, o->scaling_phase_s, (unsigned long long)s->decisions,
           (unsigned long long)s->mismatches, s->rate[0] / n, s->rate[1] / n,
           s->rate[1] / s->rate[0]);
    double med = median(s->ratio, n), cmed = median(s->ctl_ratio, n);
    printf("\"scaling_median\":%.3f,\"scaling_min\":%.3f,\"scaling_max\":%.3f,"
           "\"control_per_s_1\":%.0f,\"control_scaling\":%.3f,"
           "\"control_scaling_median\":%.3f,",
           med, s->ratio[0], s->ratio[n - 1], s->ctl[0] / n,
           s->ctl[1] / s->ctl[0], cmed);
    bench_print_tail(sc, audit, s->total);
}

/* The rounds, on one handle: ratelimit's state stays warm throughout. */
typedef struct scal_run {
    bench_job j;
    scal_sums s;
} scal_run;

static int scal_fn(mcpauth *a, void *ctx)
{
    scal_run *c = ctx;
    for (unsigned r = 0; r < c->j.o->scaling_rounds; r++)
        if (scal_round(a, &c->j, r, &c->s) != 0)
            return 2;
    return 0;
}

int bench_scaling(const bench_env *env, const bench_opts *o,
                  const bench_scenario *sc, bench_mix *mixes)
{
    scal_run c = { { sc, o, mixes }, { { 0, 0 }, { 0, 0 }, NULL, NULL, 0, 0, 0 } };
    long long audit;
    int rc = 2;
    c.s.ratio = calloc(o->scaling_rounds, sizeof(double));
    c.s.ctl_ratio = calloc(o->scaling_rounds, sizeof(double));
    if (c.s.ratio && c.s.ctl_ratio &&
        (rc = bench_with_policy(env, sc, scal_fn, &c, &audit)) == 0) {
        scal_print(sc, o, &c.s, audit);
        rc = c.s.mismatches ||
             (sc->audit && audit != (long long)c.s.total) ? 1 : 0;
    }
    free(c.s.ratio);
    free(c.s.ctl_ratio);
    return rc;
}
