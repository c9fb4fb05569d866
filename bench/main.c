/* main.c: mcpauth-bench's options and the order of a run. See
 * docs/performance.md for what each figure means.
 *
 *   mcpauth-bench [--smoke] [--warmup S] [--duration S] [--keys N]
 *                 [--threads 1,2] [--scenario NAME] [--clients N] [--mix N]
 *                 [--sample N] [--reloads N] [--load-runs N] [--keep]
 *                 [--scaling ROUNDS] [--scaling-phase S] [--plugin-dir DIR]
 *   mcpauth-bench --memory [--addresses N] [--smoke]
 *
 * Exit status: 0 when every measurement ran and every decision was the one
 * planned (and every decision reached the audit file), 1 when one was not,
 * 2 on a usage or setup error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static const bench_scenario scenarios[] = {
    { "framework", "framework.yaml", 1, 0, 0 },
    { "apikey", "apikey.yaml", 0, 0, 0 },
    { "full", "full.yaml", 0, 1, 0 },
    { "full+audit", "full_audit.yaml", 0, 1, 1 },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void usage(void)
{
    fputs("usage: mcpauth-bench [--smoke] [--warmup S] [--duration S] [--keys N]\n"
          "         [--threads 1,2] [--scenario NAME] [--clients N] [--mix N]\n"
          "         [--sample N] [--reloads N] [--load-runs N] [--keep]\n"
          "         [--scaling ROUNDS] [--scaling-phase S] [--plugin-dir DIR]\n"
          "       mcpauth-bench --memory [--addresses N] [--smoke]\n"
          "scenarios: framework apikey full full+audit store_load reload\n",
          stderr);
}

static size_t pow2_at_least(size_t v)
{
    size_t p = 1;
    while (p < v)
        p *= 2;
    return p;
}

static void defaults(bench_opts *o, int smoke)
{
    const char *pd = getenv("MCPAUTH_BENCH_PLUGIN_DIR");
    *o = (bench_opts){ 1.0, 2.0, 100000, 1000, 65536, 1000000, 16, 3, 5,
                       { 1, 2 }, 2, NULL, pd && *pd ? pd : MCPAUTH_BENCH_PLUGIN_DIR,
                       0, 0, 0, 10, 0, 0.25 };
    if (smoke) {
        o->warmup_s = 0.02, o->duration_s = 0.05, o->keys = 300, o->clients = 64;
        o->mix = 1024, o->addresses = 5000, o->reloads = 1, o->load_runs = 1;
        o->smoke = 1, o->scaling_rounds = 2, o->scaling_phase_s = 0.02;
    }
}

static int parse_threads(bench_opts *o, const char *s)
{
    o->nthreads = 0;
    for (char *end; *s && o->nthreads < BENCH_MAX_THREADS; s = *end ? end + 1 : end) {
        long t = strtol(s, &end, 10);
        if (end == s || t < 1 || t > BENCH_MAX_THREADS || (*end && *end != ','))
            return -1;
        o->threads[o->nthreads++] = (int)t;
    }
    return o->nthreads ? 0 : -1;
}

/* Options with a value; returns 0, or -1 for an unknown or bad one. */
static int parse_value(bench_opts *o, const char *opt, const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if (!strcmp(opt, "--threads"))
        return parse_threads(o, v);
    if (!strcmp(opt, "--scenario"))
        return (o->only = v), 0;
    if (!strcmp(opt, "--plugin-dir"))
        return (o->plugin_dir = v), 0;
    if (*end || d < 0)
        return -1;
    if (!strcmp(opt, "--warmup"))
        o->warmup_s = d;
    else if (!strcmp(opt, "--duration") && d > 0)
        o->duration_s = d;
    else if (!strcmp(opt, "--keys") && d >= 1)
        o->keys = (size_t)d;
    else if (!strcmp(opt, "--clients") && d >= 1)
        o->clients = (size_t)d;
    else if (!strcmp(opt, "--mix") && d >= 1)
        o->mix = pow2_at_least((size_t)d);
    else if (!strcmp(opt, "--addresses") && d >= 1)
        o->addresses = (size_t)d;
    else if (!strcmp(opt, "--sample") && d >= 1)
        o->sample = (unsigned)pow2_at_least((size_t)d);
    else if (!strcmp(opt, "--scaling") && d <= 10000)
        o->scaling_rounds = (unsigned)d, o->scaling_asked = 1;
    else if (!strcmp(opt, "--scaling-phase") && d > 0)
        o->scaling_phase_s = d;
    else if (!strcmp(opt, "--reloads"))
        o->reloads = (unsigned)d;
    else if (!strcmp(opt, "--load-runs") && d >= 1)
        o->load_runs = (unsigned)d;
    else
        return -1;
    return 0;
}

static int parse_args(bench_opts *o, int argc, char **argv)
{
    int smoke = 0;
    for (int i = 1; i < argc; i++)
        smoke |= !strcmp(argv[i], "--smoke");
    defaults(o, smoke);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--smoke"))
            continue;
        if (!strcmp(a, "--memory"))
            o->memory = 1;
        else if (!strcmp(a, "--keep"))
            o->keep = 1;
        else if (i + 1 >= argc || parse_value(o, a, argv[i + 1]) != 0)
            return -1;
        else
            i++;
    }
    return 0;
}

static int wanted(const bench_opts *o, const char *name)
{
    return !o->only || !strcmp(o->only, name);
}

/* The alternated scaling rounds run in a whole run for `full`, whose
 * 2-thread target they measure; with --scenario, only when --scaling asks
 * (bench/compare.sh runs one scenario many times). */
static int scaling_wanted(const bench_opts *o, const bench_scenario *sc)
{
    if (!o->scaling_rounds)
        return 0;
    return o->only ? o->scaling_asked : !strcmp(sc->name, "full");
}

static void print_result(const bench_scenario *sc, int threads, const bench_result *r,
                         double rate1, long long audit)
{
    printf("{\"scenario\":\"%s\",\"threads\":%d,\"decisions\":%llu,"
           "\"decisions_per_s\":%.0f,\"cpu_decisions_per_s\":%.0f,"
           "\"ns_per_decision\":%.1f,\"p50_ns\":%llu,"
           "\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu,\"samples\":%llu,"
           "\"seconds\":%.3f,\"allowed_pct\":%.2f,\"mismatches\":%llu,",
           sc->name, threads, (unsigned long long)r->decisions, r->rate, r->cpu_rate,
           r->rate > 0 ? threads * 1e9 / r->rate : 0, (unsigned long long)r->p50,
           (unsigned long long)r->p99, (unsigned long long)r->p999,
           (unsigned long long)r->max, (unsigned long long)r->samples, r->seconds,
           r->decisions ? 100.0 * (double)r->allowed / (double)r->decisions : 0,
           (unsigned long long)r->mismatches);
    if (threads > 1 && rate1 > 0)
        printf("\"scaling\":%.2f,", r->rate / rate1);
    printf("\"timer_ns\":%llu,", (unsigned long long)bench_timer_ns());
    bench_print_tail(sc, audit, r->total);
}

/* One scenario at one thread count, on a handle of its own. */
typedef struct one_run {
    bench_job j;
    int threads;
    bench_result r;
} one_run;

static int one_run_fn(mcpauth *a, void *ctx)
{
    one_run *c = ctx;
    return bench_run(a, c->j.sc, c->j.mixes, c->threads, c->j.o, &c->r) != 0 ? 2 : 0;
}

/* Returns 0, 1 (wrong decisions or lost audit records) or 2 (could not
 * run). */
static int run_one(const bench_env *env, const bench_opts *o, const bench_scenario *sc,
                   int threads, bench_mix *mixes, double *rate1)
{
    one_run c = { { sc, o, mixes }, threads, { 0 } };
    long long audit;
    int rc = bench_with_policy(env, sc, one_run_fn, &c, &audit);
    if (rc != 0)
        return rc;
    if (threads == 1)
        *rate1 = c.r.rate;
    print_result(sc, threads, &c.r, *rate1, audit);
    return c.r.mismatches || (sc->audit && audit != (long long)c.r.total) ? 1 : 0;
}

static int run_scenarios(const bench_env *env, const bench_opts *o)
{
    bench_mix mixes[BENCH_MAX_THREADS];
    int rc = 0, maxt = 1;
    memset(mixes, 0, sizeof(mixes));
    for (int i = 0; i < o->nthreads; i++)
        maxt = o->threads[i] > maxt ? o->threads[i] : maxt;
    if (o->scaling_rounds && maxt < 2)
        maxt = 2;
    for (int t = 0; t < maxt; t++)
        if (bench_mix_build(&mixes[t], env, o->mix, 0x5EED0000u + (uint64_t)t) != 0)
            rc = 2;
    for (size_t s = 0; rc != 2 && s < NSCENARIOS; s++) {
        double rate1 = 0;
        if (!wanted(o, scenarios[s].name))
            continue;
        for (int i = 0; rc != 2 && i < o->nthreads; i++) {
            int r = run_one(env, o, &scenarios[s], o->threads[i], mixes, &rate1);
            rc = r > rc ? r : rc;
        }
        if (rc != 2 && scaling_wanted(o, &scenarios[s])) {
            int r = bench_scaling(env, o, &scenarios[s], mixes);
            rc = r > rc ? r : rc;
        }
    }
    for (int t = 0; t < maxt; t++)
        bench_mix_free(&mixes[t]);
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_env env;
    int rc = 0;
    if (parse_args(&o, argc, argv) != 0) {
        usage();
        return 2;
    }
    if (o.memory)
        return bench_memory(&o) == 0 ? 0 : 2;
    uint64_t t0 = bench_now_ns();
    if (bench_env_init(&env, &o) != 0 || bench_write_policies(&env, &o) != 0) {
        bench_env_free(&env, o.keep);
        return 2;
    }
    fprintf(stderr, "mcpauth-bench: %zu keys created in %.0f ms in %s\n", env.nkeys,
            (double)(bench_now_ns() - t0) / 1e6, env.dir);
    if (wanted(&o, "store_load") && bench_store_load(&env, &o) != 0)
        rc = 2;
    int r = rc ? rc : run_scenarios(&env, &o);
    rc = r > rc ? r : rc;
    if (rc != 2 && wanted(&o, "reload") && o.reloads &&
        bench_reload_stall(&env, &o) != 0)
        rc = rc ? rc : 1;
    bench_env_free(&env, o.keep);
    return rc;
}
