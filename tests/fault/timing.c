/* timing.c: how long mcpauth_store_verify takes for a right key, an unknown
 * id, a secret wrong in its first or its last character, and a revoked key.
 * The figures in docs/security.md come from this program; it is built but
 * not run by ctest (wall-clock times are measurements, not assertions;
 * tests/fault/test_verify_path.c asserts that the work done is the same).
 *
 *   mcpauth_verify_timing [-n ITERATIONS] [-k KEYS] [-s SCENARIO] [-c]
 *
 * Each scenario runs in interleaved batches; the median batch is reported.
 * With -s only that scenario runs. With -c (under valgrind --tool=callgrind
 * --collect-atstart=no) each scenario runs once, n times, on the same store
 * and keys, and its costs are dumped apart, named after the scenario. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keytext.h"
#include "mcpauth/mcpauth.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif

#define BATCHES 41
#define SCENARIOS 5

static const char *const names[SCENARIOS] = { "right_key", "unknown_id", "wrong_first",
                                              "wrong_last", "revoked" };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int make_store(const char *path, int nkeys, char keys[SCENARIOS][MCPAUTH_KEY_TEXT_MAX],
                      mcpauth_store **out)
{
    mcpauth_error err;
    mcpauth_store_options o = MCPAUTH_STORE_OPTIONS_INIT;
    mcpauth_key_info *info = NULL;
    mcpauth_key_spec spec = MCPAUTH_KEY_SPEC_INIT;
    char k[MCPAUTH_KEY_TEXT_MAX];
    o.flags = MCPAUTH_STORE_CREATE;
    if (mcpauth_store_open(out, path, &o, &err) != MCPAUTH_OK)
        goto fail;
    spec.name = "timing";
    for (int i = 0; i < nkeys; i++)
        if (mcpauth_store_create(*out, &spec, 0, k, sizeof k, NULL, &err) != MCPAUTH_OK)
            goto fail;
    if (mcpauth_store_create(*out, &spec, 0, keys[0], sizeof keys[0], NULL, &err) ||
        mcpauth_store_create(*out, &spec, 0, keys[4], sizeof keys[4], &info, &err) ||
        mcpauth_store_revoke(*out, info->id, 0, &err))
        goto fail;
    mcpauth_key_info_free(info);
    for (int i = 1; i < 4; i++)
        strcpy(keys[i], keys[0]);
    kt_flip_id(keys[1], 0);
    kt_flip_secret(keys[2], 0);
    kt_flip_secret(keys[3], KT_SECRET_LEN - 1);
    return 0;
fail:
    fprintf(stderr, "mcpauth_verify_timing: %s\n", err.message);
    mcpauth_key_info_free(info);
    return -1;
}

/* Every scenario's key is verified from this one buffer. glibc's string
 * functions take a different path when a read would cross a page, so keys
 * at different addresses (the stack moves with ASLR) could cost a few
 * instructions more or less for a reason that has nothing to do with the
 * secret; CI once saw 3 instructions a verification between two scenarios. */
static _Alignas(64) char text[MCPAUTH_KEY_TEXT_MAX];

static uint64_t batch(mcpauth_store *s, const char *key, long n)
{
    mcpauth_key_verdict v;
    memcpy(text, key, sizeof(text));
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        mcpauth_store_verify(s, text, 0, MCPAUTH_KEY_TYPE_LIVE, &v);
        if (v.release)
            v.release(v.release_arg);
    }
    return now_ns() - t0;
}

/* One collected, separately dumped run per scenario (callgrind). */
static int count_instructions(mcpauth_store *s, char keys[SCENARIOS][MCPAUTH_KEY_TEXT_MAX],
                              long n)
{
#ifdef HAVE_CALLGRIND
    for (int i = 0; i < SCENARIOS; i++) {
        CALLGRIND_TOGGLE_COLLECT;
        batch(s, keys[i], n);
        CALLGRIND_TOGGLE_COLLECT;
        CALLGRIND_DUMP_STATS_AT(names[i]);
    }
    return 0;
#else
    (void)s, (void)keys, (void)n;
    fprintf(stderr, "mcpauth_verify_timing: built without valgrind/callgrind.h\n");
    return -1;
#endif
}

int main(int argc, char **argv)
{
    long iters = 20000;
    int nkeys = 100, only = -1, cg = 0, c;
    while ((c = getopt(argc, argv, "n:k:s:c")) != -1) {
        if (c == 'c') cg = 1;
        else if (c == 'n') iters = atol(optarg);
        else if (c == 'k') nkeys = atoi(optarg);
        else if (c == 's') {
            for (int i = 0; i < SCENARIOS; i++)
                if (!strcmp(optarg, names[i])) only = i;
        } else {
            fprintf(stderr, "usage: %s [-n ITERATIONS] [-k KEYS] [-s SCENARIO] [-c]\n",
                    argv[0]);
            return 2;
        }
    }
    char tmpl[] = "/tmp/mcpauth-timing-XXXXXX", path[64];
    char keys[SCENARIOS][MCPAUTH_KEY_TEXT_MAX];
    mcpauth_store *s = NULL;
    if (!mkdtemp(tmpl))
        return 2;
    snprintf(path, sizeof(path), "%s/keys.yaml", tmpl);
    int rc = make_store(path, nkeys, keys, &s);
    if (rc == 0 && cg)
        rc = count_instructions(s, keys, iters);
    if (cg)
        only = SCENARIOS; /* no timing runs */
    static uint64_t t[SCENARIOS][BATCHES];
    long per = iters / BATCHES > 0 ? iters / BATCHES : 1;
    for (int b = 0; rc == 0 && b < BATCHES; b++)
        for (int i = 0; i < SCENARIOS; i++)
            if (only < 0 || only == i)
                t[i][b] = batch(s, keys[i], per);
    for (int i = 0; rc == 0 && i < SCENARIOS && !cg; i++) {
        if (only >= 0 && only != i)
            continue;
        qsort(t[i], BATCHES, sizeof(t[i][0]), cmp_u64);
        printf("%-12s %8.1f ns/verify (median of %d batches of %ld; min %.1f, max %.1f)\n",
               names[i], (double)t[i][BATCHES / 2] / (double)per, BATCHES, per,
               (double)t[i][0] / (double)per, (double)t[i][BATCHES - 1] / (double)per);
    }
    memset(keys, 0, sizeof(keys));
    memset(text, 0, sizeof(text));
    mcpauth_store_close(s);
    unlink(path);
    char lock[80];
    snprintf(lock, sizeof(lock), "%s.lock", path);
    unlink(lock);
    rmdir(tmpl);
    return rc ? 2 : 0;
}
