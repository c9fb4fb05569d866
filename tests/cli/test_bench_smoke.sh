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

# bench/series.sh: runs one build again and again (no gap here), prints each
# run's rate and then the summary, counting the runs that reached TARGET.
SERIES="$MCPAUTH_SOURCE_DIR/bench/series.sh"
export SERIES_ARGS="--keys 300 --clients 64 --mix 1024"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" framework 2 0 1
expect_rc 0
expect_out "series: 2 runs of framework, 1 thread, from "
expect_out "decisions/s median "
expect_out "at or above 1: 2 of 2"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" framework 1 0 999999999999
expect_rc 0
expect_out "at or above 999999999999: 0 of 1"
SERIES_ARGS="--threads 0" run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 1 0
expect_rc 1
expect_out "the benchmark in $MCPAUTH_BUILD_DIR failed"
run sh "$SERIES"
expect_rc 2
expect_out "usage: bench/series.sh"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 0
expect_rc 2
expect_out "RUNS must be at least 1"
run sh "$SERIES" "$MCPAUTH_BUILD_DIR" full 2 soon
expect_rc 2
expect_out "'soon' is not a whole number"
run sh "$SERIES" "$T/nowhere"
expect_rc 2
expect_out "$T/nowhere/bin/mcpauth-bench: not found"

finish
