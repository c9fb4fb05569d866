#!/bin/bash
# mcpauth-bench --smoke: the benchmark runs end to end in a fraction of a
# second (tiny store, tiny durations) and every line it prints is a JSON
# object with the fields docs/performance.md describes. No timing is
# asserted: the figures of a smoke run mean nothing.
set -u
. "$(dirname "$0")/lib.sh"

BENCH="$MCPAUTH_BIN_DIR/mcpauth-bench"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export TMPDIR="$T"

# Check every line of a file with node (a dependency of the e2e tests), or
# python3 where node is missing.
check_json() {
    local file=$1
    if command -v node >/dev/null 2>&1; then
        node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
const common = ["scenario", "threads", "decisions", "decisions_per_s", "p50_ns", "p99_ns", "max_rss_kb"];
const extra = { store_load: ["keys", "cpus", "load_ms_best", "load_ms_best_one_cpu", "libyaml_events_ms_best", "max_rss_kb"],
                scaling: ["of", "rounds", "decisions", "mismatches", "decisions_per_s_1", "decisions_per_s_2", "scaling", "scaling_median", "control_scaling", "max_rss_kb"],
                reload: ["reloads", "reload_ms_max", "max_ns", "baseline_max_ns"],
                "full+audit": ["audit_records", "audit_expected"],
                memory: ["addresses", "rss_before_kb"] };
let bad = 0;
for (const l of lines) {
  let o; try { o = JSON.parse(l); } catch (e) { console.log("not JSON: " + l); bad++; continue; }
  const own = o.scenario === "store_load" || o.scenario === "scaling";
  const need = own ? extra[o.scenario] : common.concat(extra[o.scenario] || []);
  for (const k of need) if (!(k in o)) { console.log("no " + k + ": " + l); bad++; }
  console.log("scenario " + o.scenario + " " + (o.threads || 1));
}
process.exit(bad ? 1 : 0);' "$file"
    else
        python3 - "$file" <<'PY'
import json, sys
common = ["scenario", "threads", "decisions", "decisions_per_s", "p50_ns", "p99_ns", "max_rss_kb"]
extra = {"store_load": ["keys", "cpus", "load_ms_best", "load_ms_best_one_cpu", "libyaml_events_ms_best", "max_rss_kb"],
         "scaling": ["of", "rounds", "decisions", "mismatches", "decisions_per_s_1", "decisions_per_s_2", "scaling", "scaling_median", "control_scaling", "max_rss_kb"],
         "reload": ["reloads", "reload_ms_max", "max_ns", "baseline_max_ns"],
         "full+audit": ["audit_records", "audit_expected"],
         "memory": ["addresses", "rss_before_kb"]}
bad = 0
for l in open(sys.argv[1]).read().strip().split("\n"):
    try:
        o = json.loads(l)
    except ValueError:
        print("not JSON: " + l); bad += 1; continue
    own = o["scenario"] in ("store_load", "scaling")
    need = extra[o["scenario"]] if own else common + extra.get(o["scenario"], [])
    for k in need:
        if k not in o:
            print("no %s: %s" % (k, l)); bad += 1
    print("scenario %s %s" % (o["scenario"], o.get("threads", 1)))
sys.exit(1 if bad else 0)
PY
    fi
}

run "$BENCH" --smoke
expect_rc 0
printf '%s\n' "$_out" | grep '^{' > "$T/out.json"
run check_json "$T/out.json"
expect_rc 0
for s in "store_load 1" "framework 1" "framework 2" "apikey 1" "apikey 2" \
         "full 1" "full 2" "scaling 1" "full+audit 1" "full+audit 2" "reload 1"; do
    expect_count "scenario $s" 1
done
# Every decision was the planned one (exit 0 also says every decision
# reached the audit file), in the alternated scaling rounds too.
run grep -c '"mismatches":0' "$T/out.json"
expect_out 10
run grep -c '"scenario":"scaling","of":"full","rounds":2,' "$T/out.json"
expect_out 1

run "$BENCH" --smoke --memory
expect_rc 0
printf '%s\n' "$_out" | grep '^{' > "$T/mem.json"
run check_json "$T/mem.json"
expect_rc 0
expect_out "scenario memory 1"

# The temporary directory is removed, and bad options are refused.
run find "$T" -maxdepth 1 -name 'mcpauth-bench-*'
expect_rc 0
expect_no_out "mcpauth-bench-"
run "$BENCH" --threads 0
expect_rc 2
expect_out "usage"
run "$BENCH" --duration soon
expect_rc 2

# bench/compare.sh: the same build on both sides, one short round, prints
# the two summaries; a benchmark that fails makes it fail, and says why.
COMPARE="$MCPAUTH_SOURCE_DIR/bench/compare.sh"
export COMPARE_ARGS="--keys 300 --clients 64 --mix 1024"
run sh "$COMPARE" "$MCPAUTH_BUILD_DIR" "$MCPAUTH_BUILD_DIR" framework 1 2
expect_rc 0
expect_out "A: 2 runs, decisions/s mean "
expect_out "B: 2 runs, decisions/s mean "
COMPARE_ARGS="--threads 0" run sh "$COMPARE" "$MCPAUTH_BUILD_DIR" "$MCPAUTH_BUILD_DIR" full 1 1
expect_rc 1
expect_out "the benchmark in $MCPAUTH_BUILD_DIR failed"
expect_out "usage"
run sh "$COMPARE" "$MCPAUTH_BUILD_DIR"
expect_rc 2
expect_out "usage: bench/compare.sh"
run sh "$COMPARE" "$T/nowhere" "$MCPAUTH_BUILD_DIR"
expect_rc 2
expect_out "$T/nowhere/bin/mcpauth-bench: not found"

# bench/series.sh with the real benchmark: runs it again and again (no
# gap here) and counts the runs that reached TARGET.
SERIES="$MCPAUTH_SOURCE_DIR/bench/series.sh"
export SERIES_ARGS="--keys 300 --clients 64 --mix 1024"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" framework 2 0 1
expect_rc 0
expect_out "series: 2 runs of framework, 1 thread, from "
expect_out "at or above 1: 2 of 2"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" framework 1 0 999999999999
expect_rc 0
expect_out "series: 1 run of framework"
expect_out "at or above 999999999999: 0 of 1"
SERIES_ARGS="--bogus" run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 1 0
expect_rc 1
expect_out "the benchmark in $MCPAUTH_BUILD_DIR failed"
expect_out "usage"

# ... and with a stand-in benchmark that prints the rates listed in a file,
# one a run, so that the figures of the summary are known exactly.
FAKE="$T/fake"
mkdir -p "$FAKE/bin"
cat >"$FAKE/bin/mcpauth-bench" <<'FAKEEOF'
#!/bin/sh
echo "$*" >>"$FAKE_ARGS"
n=$(head -n 1 "$FAKE_RATES")
sed -i 1d "$FAKE_RATES"
if [ "$n" = none ]; then echo '{"scenario":"full"}'; exit 0; fi
echo "{\"scenario\":\"full\",\"threads\":1,\"decisions_per_s\":$n}"
FAKEEOF
chmod +x "$FAKE/bin/mcpauth-bench"
export FAKE_RATES="$T/rates" FAKE_ARGS="$T/args"
printf '%s\n' 500 100 400 200 300 >"$FAKE_RATES"
SERIES_ARGS="--threads 2 --keys 10" run sh "$SERIES" "$FAKE" full 5 0 300
expect_rc 0
expect_out "series: 5 runs of full, 1 thread"
expect_out "decisions/s median 300, lowest tenth up to 100, lowest quarter up to 200, range 100 to 500"
expect_out "at or above 300: 3 of 5"
# Each run's line, in the order run: its UTC time and its rate.
run sh -c 'printf "%s\n" "$1" | head -n 5 | sed -n "s/^[0-2][0-9]:[0-5][0-9]:[0-6][0-9] \([0-9]*\)\$/\1/p" | tr "\n" " "' _ "$_out"
expect_line1 "500 100 400 200 300 "
# The script's own options come after SERIES_ARGS: the run has 1 thread.
run tail -n 1 "$FAKE_ARGS"
expect_out "--threads 2 --keys 10 --scenario full --threads 1 --duration 1 --warmup 0.3 --scaling 0"
printf '%s\n' 400 100 300 200 >"$FAKE_RATES"
run sh "$SERIES" "$FAKE" full 4 0
expect_rc 0
expect_out "decisions/s median 250, lowest tenth up to 100, lowest quarter up to 100, range 100 to 400"
expect_out "at or above 1000000: 0 of 4"
printf '%s\n' 700 none >"$FAKE_RATES"
run sh "$SERIES" "$FAKE" full 2 0
expect_rc 1
expect_out "the benchmark printed no rate"
expect_no_out "series: "
unset SERIES_ARGS
# compare.sh pairs the rounds: A then B, B then A, A then B (one run each).
printf '%s\n' 100 110 220 200 150 150 >"$FAKE_RATES"
run sh "$COMPARE" "$FAKE" "$FAKE" full 3 1
expect_rc 0
expect_out "A: 3 runs, decisions/s mean 150, median 150, range 100 to 200"
expect_out "B: 3 runs, decisions/s mean 160, median 150, range 110 to 220"
expect_out "paired by round: B/A median 1.100, B faster in 2 of 3 rounds"
unset FAKE_RATES FAKE_ARGS

# Bad arguments are refused before anything runs.
run sh "$SERIES"
expect_rc 2
expect_out "usage: bench/series.sh"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 1 0 1 extra
expect_rc 2
expect_out "usage: bench/series.sh"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 0
expect_rc 2
expect_out "RUNS must be at least 1"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 2 soon
expect_rc 2
expect_out "'soon' is not a whole number"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 99999999999999999999
expect_rc 2
expect_out "at most 12 digits"
run sh "$SERIES" "$T/nowhere"
expect_rc 2
expect_out "$T/nowhere/bin/mcpauth-bench: not found"
# compare.sh and series.sh leave no temporary directory behind.
run find "$T" -mindepth 1 -maxdepth 1 -name 'tmp.*'
expect_rc 0
expect_no_out "tmp."

finish
