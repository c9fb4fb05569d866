#!/bin/sh
# compare.sh: is build B faster than build A? The VM this project is measured
# on changes speed by up to 2x from one minute to the next, so one run of
# each says nothing. This alternates the two builds' benchmarks, ROUNDS
# processes each, one process of RUNS one-second runs of SCENARIO at a time
# (1 thread), and prints the mean, median and range of decisions/s for each,
# then the median over the rounds of B's mean over A's within a round.
# The order flips every round (A B, B A, ...), so that a drift in the
# machine's speed within a round favours neither. A run whose decisions
# were not the planned ones (the benchmark exits non-zero) stops it.
#
# Runs of one process move together (each process makes its own store, and
# the VM drifts over its seconds), so what counts is the number of
# processes: one build against a copy of itself came out 10% apart over 8
# rounds of 4 runs (1,022 k against 919 k/s). Hence 20 rounds of 2 by
# default (about 4 minutes for `full`). Scaled to 20 rounds that gap is
# ~6%: treat a smaller difference as noise until a second run agrees.
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
a=$1 b=$2 scenario=${3:-full} rounds=${4:-20} runs=${5:-2}
for d in "$a" "$b"; do
    if [ ! -x "$d/bin/mcpauth-bench" ]; then
        echo "compare.sh: $d/bin/mcpauth-bench: not found (build it first)" >&2
        exit 2
    fi
done
threads=1
i=1
while [ "$i" -lt "$runs" ]; do threads="$threads,1"; i=$((i + 1)); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
out=$tmp/rates
r=0
while [ "$r" -lt "$rounds" ]; do
    if [ $((r % 2)) -eq 0 ]; then order="A B"; else order="B A"; fi
    for side in $order; do
        if [ "$side" = A ]; then d=$a; else d=$b; fi
        # shellcheck disable=SC2086
        if ! "$d/bin/mcpauth-bench" --scenario "$scenario" --threads "$threads" \
                --duration 1 --warmup 0.5 ${COMPARE_ARGS:-} >"$tmp/run" 2>"$tmp/err"; then
            echo "compare.sh: the benchmark in $d failed:" >&2
            cat "$tmp/err" "$tmp/run" >&2
            exit 1
        fi
        sed -n 's/.*"decisions_per_s":\([0-9]*\).*/\1/p' "$tmp/run" |
            sed "s/^/$side $r /" >>"$out"
    done
    r=$((r + 1))
done

for side in A B; do
    grep "^$side " "$out" | cut -d' ' -f3 | sort -n | awk -v side="$side" '
        { v[NR] = $1; sum += $1 }
        END {
            if (NR == 0) { print side ": no runs"; exit 1 }
            med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s: %d runs, decisions/s mean %.0f, median %.0f, range %d to %d\n",
                   side, NR, sum / NR, med, v[1], v[NR]
        }'
done

# Paired by round: the two builds' processes of one round ran back to back,
# so the ratio of their means moves less with the VM than either alone.
awk '{ s[$2 " " $1] += $3; n[$2 " " $1]++; if ($2 + 1 > rounds) rounds = $2 + 1 }
     END { for (r = 0; r < rounds; r++)
               print (s[r " B"] / n[r " B"]) / (s[r " A"] / n[r " A"]) }' "$out" |
    sort -g | awk '
        { v[NR] = $1; if ($1 > 1) faster++ }
        END {
            med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "paired by round: B/A median %.3f, B faster in %d of %d rounds\n",
                   med, faster, NR
        }'
