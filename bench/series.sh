#!/bin/sh
# series.sh: how often does one build reach a rate on this machine? The VM
# this project is measured on has fast and slow phases lasting minutes, so
# one run of the benchmark says which phase it fell in more than what the
# code does. This runs RUNS one-second runs of SCENARIO with 1 thread, one
# process each, with GAP_S seconds between the end of one and the start of
# the next. It prints each run's time and rate as it goes, then the
# median, the top of the lowest tenth and of the lowest quarter (nearest
# rank), the range, and how many runs reached TARGET decisions/s. A run
# whose decisions were not the planned ones (the benchmark exits non-zero)
# stops it.
#
#   bench/series.sh BUILD [SCENARIO [RUNS [GAP_S [TARGET]]]]
#
# Defaults: full, 40 runs, 30 s between runs (about 25 minutes), 1000000
# (the issue's target for `full`). BUILD is a build directory with
# bin/mcpauth-bench. Extra benchmark options (--keys, --clients, ...) go in
# SERIES_ARGS; they come first, so --threads, --duration, --warmup and
# --scaling stay the script's own.
set -eu

usage() {
    echo "usage: bench/series.sh BUILD [SCENARIO [RUNS [GAP_S [TARGET]]]]" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 5 ]; then usage; fi
d=$1 scenario=${2:-full} runs=${3:-40} gap=${4:-30} target=${5:-1000000}
if [ ! -x "$d/bin/mcpauth-bench" ]; then
    echo "series.sh: $d/bin/mcpauth-bench: not found (build it first)" >&2
    exit 2
fi
# Digits only, and few enough for the shell's arithmetic.
for n in "$runs" "$gap" "$target"; do
    case $n in
    '' | *[!0-9]* | ?????????????*)
        echo "series.sh: '$n' is not a whole number of at most 12 digits" >&2
        exit 2
        ;;
    esac
done
if [ "$runs" -eq 0 ]; then
    echo "series.sh: RUNS must be at least 1" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
first=$(date -u +%H:%M:%S)
i=0
while [ "$i" -lt "$runs" ]; do
    if [ "$i" -gt 0 ] && [ "$gap" -gt 0 ]; then sleep "$gap"; fi
    # shellcheck disable=SC2086
    if ! "$d/bin/mcpauth-bench" ${SERIES_ARGS:-} --scenario "$scenario" \
            --threads 1 --duration 1 --warmup 0.3 --scaling 0 \
            >"$tmp/run" 2>"$tmp/err"; then
        echo "series.sh: the benchmark in $d failed:" >&2
        cat "$tmp/err" "$tmp/run" >&2
        exit 1
    fi
    rate=$(sed -n 's/.*"decisions_per_s":\([0-9]*\).*/\1/p' "$tmp/run" | head -n 1)
    if [ -z "$rate" ]; then
        echo "series.sh: the benchmark printed no rate:" >&2
        cat "$tmp/run" >&2
        exit 1
    fi
    echo "$(date -u +%H:%M:%S) $rate"
    echo "$rate" >>"$tmp/rates"
    i=$((i + 1))
done

# %.0f, not %d: mawk, Debian's awk, prints %d through a 32-bit int.
sort -n "$tmp/rates" | awk -v s="$scenario" -v t="$target" \
        -v from="$first" -v to="$(date -u +%H:%M:%S)" '
    function at(q,  k) { k = int(q * NR); if (k < q * NR) k++; return v[k < 1 ? 1 : k] }
    { v[NR] = $1; if ($1 + 0 >= t + 0) hit++ }
    END {
        med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "series: %d run%s of %s, 1 thread, from %s to %s UTC\n", NR,
               NR == 1 ? "" : "s", s, from, to
        printf "decisions/s median %.0f, lowest tenth up to %.0f, lowest quarter up to %.0f, range %.0f to %.0f\n",
               med, at(0.1), at(0.25), v[1], v[NR]
        printf "at or above %.0f: %d of %d\n", t, hit, NR
    }'
