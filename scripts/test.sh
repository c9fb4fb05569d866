#!/bin/sh
# make test: every suite in a normal build (each CUnit suite also under
# valgrind), the ThreadSanitizer stress test, a bounded libFuzzer run of
# every target, and last every suite again in an AddressSanitizer + UBSan
# build (so that ctest's summary of that run closes the output).
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

echo "== normal build: all tests, CUnit suites also under valgrind"
(cd build && ctest --output-on-failure -j "$JOBS")

echo "== ThreadSanitizer build: checks, reloads, key changes and audit at once"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCPAUTH_TSAN=ON >/dev/null
cmake --build build-tsan -j "$JOBS" --target test_stress
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
    ctest --output-on-failure -R '^test_stress$')

echo "== libFuzzer: every target from its seed corpus, ${FUZZ_SECONDS:-30} s each"
FUZZ_JOBS=${FUZZ_JOBS:-2} sh scripts/fuzz.sh

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMCPAUTH_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$JOBS" -LE "e2e|install|slow")
