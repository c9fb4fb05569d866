#!/bin/sh
# compare.sh: is build B faster than build A? The VM this project is measured
# on changes speed by up to 2x from one minute to the next, so one run of
# each says nothing. This alternates the two builds' benchmarks, ROUNDS
# processes each, one process of RUNS one-second runs of SCENARIO at a time
# (1 thread), and prints the mean, median and range of decisions/s for each.
#
#   bench/compare.sh BUILD_A BUILD_B [SCENARIO [ROUNDS [RUNS]]]
#
# BUILD_A and BUILD_B are build directories (each with bin/mcpauth-bench and
# its plugins), e.g. one from `git archive OLD | tar -x -C /tmp/old` built
# there, and build/. Extra benchmark options go in COMPARE_ARGS.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: bench/compare.sh BUILD_A BUILD_B [SCENARIO [ROUNDS [RUNS]]]" >&2
    exit 2
fi
a=$1 b=$2 scenario=${3:-full} rounds=${4:-6} runs=${5:-4}
for d in "$a" "$b"; do
    if [ ! -x "$d/bin/mcpauth-bench" ]; then
        echo "compare.sh: $d/bin/mcpauth-bench: not found (build it first)" >&2
        exit 2
    fi
done
threads=1
i=1
while [ "$i" -lt "$runs" ]; do threads="$threads,1"; i=$((i + 1)); done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
r=0
while [ "$r" -lt "$rounds" ]; do
    for side in A B; do
        if [ "$side" = A ]; then d=$a; else d=$b; fi
        # shellcheck disable=SC2086
        if ! "$d/bin/mcpauth-bench" --scenario "$scenario" --threads "$threads" \
                --duration 1 --warmup 0.5 ${COMPARE_ARGS:-} >"$out.run" 2>"$out.err"; then
            echo "compare.sh: the benchmark in $d failed:" >&2
            cat "$out.err" >&2
            rm -f "$out.run" "$out.err"
            exit 1
        fi
        sed -n 's/.*"decisions_per_s":\([0-9]*\).*/\1/p' "$out.run" |
            sed "s/^/$side /" >>"$out"
    done
    r=$((r + 1))
done
rm -f "$out.run" "$out.err"

for side in A B; do
    grep "^$side " "$out" | cut -d' ' -f2 | sort -n | awk -v side="$side" '
        { v[NR] = $1; sum += $1 }
        END {
            if (NR == 0) { print side ": no runs"; exit 1 }
            med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s: %d runs, decisions/s mean %.0f, median %.0f, range %d to %d\n",
                   side, NR, sum / NR, med, v[1], v[NR]
        }'
done
