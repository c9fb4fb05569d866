#!/bin/sh
# fuzz.sh: build the libFuzzer targets (tests/fuzz) with clang in their own
# build directory and run each for a bounded time, two at a time.
#
#   scripts/fuzz.sh [TARGET...]      # default: every target
#   FUZZ_SECONDS=30   seconds per target
#   FUZZ_JOBS=2       targets run at once
#   FUZZ_BUILD=build-fuzz
#
# Each run starts from the committed seed corpus (tests/fuzz/corpus/NAME,
# read only) and writes what it finds to a scratch directory. A crash, leak,
# timeout or failed oracle stops with the input saved under
# $FUZZ_BUILD/fuzz-out/NAME/; turn it into a regression test (docs/security.md).
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-30}
JOBS=${FUZZ_JOBS:-2}
BUILD=${FUZZ_BUILD:-build-fuzz}
ALL="policy keyparse cidr store store_split audit_line requests"
TARGETS=${*:-$ALL}

CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCPAUTH_FUZZ=ON \
    -DMCPAUTH_VALGRIND=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target fuzzers >/dev/null

OUT="$BUILD/fuzz-out"
rm -rf "$OUT"
mkdir -p "$OUT"

# run_one NAME: fuzz one target; its log goes to $OUT/NAME.log.
run_one() {
    name=$1
    mkdir -p "$OUT/$name/new"
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$BUILD/bin/fuzz_$name" -max_total_time="$SECONDS_EACH" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$OUT/$name/" "$OUT/$name/new" "tests/fuzz/corpus/$name" \
        >"$OUT/$name.log" 2>&1; then
        echo "fuzz_$name: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
            "$OUT/$name.log" | grep -o '[0-9]*$') runs in ${SECONDS_EACH}s)"
    else
        echo "fuzz_$name: FAILED; input and log in $OUT/$name/ and $OUT/$name.log"
        grep -E "ERROR|SUMMARY|Test unit written" "$OUT/$name.log" | head -n 5
        return 1
    fi
}

pids=""
fails=0
n=0
for t in $TARGETS; do
    run_one "$t" &
    pids="$pids $!"
    n=$((n + 1))
    if [ "$n" -ge "$JOBS" ]; then
        for p in $pids; do wait "$p" || fails=$((fails + 1)); done
        pids=""
        n=0
    fi
done
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
[ "$fails" -eq 0 ]
