/*
 * bench.h: mcpauth-bench, the benchmark of the decision path (issue 8,
 * docs/performance.md). One JSON line per measurement on stdout.
 *
 *   setup.c    the temporary directory, the key store, the policies and the
 *              request mix
 *   measure.c  the latency histogram and the timed threads
 *   scaling.c  a second thread's worth, in alternated phases
 *   modes.c    store load time, the reload stall and the memory mode
 *   main.c     options and the order of the run
 */
#ifndef MCPAUTH_BENCH_H
#define MCPAUTH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "mcpauth/mcpauth.h"

#define BENCH_MAX_THREADS 8

typedef struct bench_opts {
    double warmup_s;      /* per scenario, not counted */
    double duration_s;    /* per scenario, measured */
    size_t keys;          /* keys in the store */
    size_t clients;       /* distinct client addresses in the mix */
    size_t mix;           /* requests in each thread's mix (a power of two) */
    size_t addresses;     /* --memory: distinct addresses fed to ratelimit */
    unsigned sample;      /* time every Nth decision (a power of two) */
    unsigned reloads;     /* reloads in the reload-stall measurement */
    unsigned load_runs;   /* store loads timed */
    int threads[BENCH_MAX_THREADS];
    int nthreads;
    const char *only;     /* one scenario, or NULL for all */
    const char *plugin_dir;
    int memory, smoke, keep;
    unsigned scaling_rounds; /* alternated 1- and 2-thread rounds (scaling.c) */
    int scaling_asked;       /* --scaling given */
    double scaling_phase_s;  /* each phase of a round, measured */
} bench_opts;

/* What a planned request is, and so what it should get. */
typedef enum bench_kind {
    BENCH_OK = 0,
    BENCH_BAD_SECRET,     /* a known id, a wrong secret (valid checksum) */
    BENCH_FORBIDDEN_TOOL, /* a valid key asking for a tool its role lacks */
    BENCH_UNKNOWN_ID      /* a well-formed key whose id is not in the store */
} bench_kind;

/* A request carries its own copy of the key text, as a server's request
 * buffer does: the mix is walked in order, so the text is as hot as a
 * header just parsed, not a random miss into the bench's table of keys. */
typedef struct bench_req {
    mcpauth_request r;
    bench_kind kind;
    char key[MCPAUTH_KEY_TEXT_MAX];
} bench_req;

/* Everything setup builds; torn down by bench_env_free. */
typedef struct bench_env {
    char dir[512];        /* mkdtemp, 0700 */
    char store[600];      /* dir/keys.yaml */
    char *keys;           /* nkeys texts of MCPAUTH_KEY_TEXT_MAX bytes */
    size_t nkeys;
    size_t store_bytes;
    char (*clients)[20];  /* client address texts */
    size_t nclients;
} bench_env;

/* One thread's request mix. */
typedef struct bench_mix {
    bench_req *reqs;
    size_t n;             /* a power of two */
} bench_mix;

/* A scenario: a policy file and which denials it can see. */
typedef struct bench_scenario {
    const char *name;
    const char *file;     /* policy file name in env->dir */
    int all_allow;        /* framework: every request is allowed */
    int has_role;         /* forbidden tools are denied */
    int audit;            /* count the audit records afterwards */
} bench_scenario;

/* What a measurement found. */
typedef struct bench_result {
    uint64_t decisions;   /* in the measured phase */
    uint64_t total;       /* including warm-up (audit records expected) */
    uint64_t allowed;
    uint64_t mismatches;  /* decisions other than planned */
    double seconds;
    double rate;          /* decisions/s, summed over threads */
    double cpu_rate;      /* decisions per second of the threads' CPU time */
    uint64_t p50, p99, p999, max;
    uint64_t samples;
} bench_result;

/* What a run on a policy's handle needs besides the handle (the context of
 * bench_with_policy's callbacks starts with it). */
typedef struct bench_job {
    const bench_scenario *sc;
    const bench_opts *o;
    bench_mix *mixes;
} bench_job;

/* ---- setup.c ---- */
int bench_env_init(bench_env *env, const bench_opts *o);
void bench_env_free(bench_env *env, int keep);
int bench_write_policies(const bench_env *env, const bench_opts *o);
int bench_mix_build(bench_mix *m, const bench_env *env, size_t n, uint64_t seed);
void bench_mix_free(bench_mix *m);
int bench_expect_allow(const bench_scenario *sc, bench_kind k);
char *bench_path(const bench_env *env, const char *name);
int bench_write_file(const char *path, const char *text, size_t len);
/* Open sc's policy, run fn on the handle, close it and count the audit
 * records (-1 for a scenario without audit). fn returns 0 or 2. */
int bench_with_policy(const bench_env *env, const bench_scenario *sc,
                      int (*fn)(mcpauth *a, void *ctx), void *ctx,
                      long long *audit);

/* ---- measure.c ---- */
uint64_t bench_now_ns(void);
/* Calibrate the cost of one timing (two clock reads) once. */
uint64_t bench_timer_ns(void);
/* Sleep s seconds, resumed after signals. */
void bench_sleep_s(double s);
/* Run `a` on nthreads threads over their mixes: warm-up, then measure. */
int bench_run(mcpauth *a, const bench_scenario *sc, bench_mix *mixes,
              int nthreads, const bench_opts *o, bench_result *out);
/* Peak resident set size of the process in KiB since the last reset. */
long bench_peak_rss_kb(void);
long bench_rss_kb(void);
void bench_reset_peak_rss(void);
double bench_loadavg(void);
/* The end of a scenario's JSON line: the audit count for an audited
 * scenario (records found, decisions made), peak RSS and load average. */
void bench_print_tail(const bench_scenario *sc, long long audit,
                      uint64_t expected);

/* A log-linear latency histogram, preallocated: recording is an index and
 * an increment, so timing a decision costs the clock reads and little more. */
typedef struct bench_hist {
    uint64_t *b;
    uint64_t n, max;
} bench_hist;

int bench_hist_init(bench_hist *h);
void bench_hist_add(bench_hist *h, uint64_t ns);
void bench_hist_merge(bench_hist *into, const bench_hist *from);
uint64_t bench_hist_pct(const bench_hist *h, double pct);
void bench_hist_free(bench_hist *h);

/* ---- scaling.c ---- */
/* 1- and 2-thread phases of sc in alternation, with a control that shares
 * nothing; prints one JSON line. Returns 0, 1 or 2 as a scenario run. */
int bench_scaling(const bench_env *env, const bench_opts *o,
                  const bench_scenario *sc, bench_mix *mixes);

/* ---- modes.c ---- */
/* qsort's comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);
int bench_store_load(const bench_env *env, const bench_opts *o);
int bench_reload_stall(const bench_env *env, const bench_opts *o);
int bench_memory(const bench_opts *o);
/* Count decision records in an audit log (and its rotated files). */
long long bench_count_audit(const char *path);

#endif
