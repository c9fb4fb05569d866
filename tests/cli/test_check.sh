#!/bin/bash
# mcpauth policy check / mcpauth check, driven as a user would, with the
# scripted test plugin standing in for real ones.
set -u
. "$(dirname "$0")/lib.sh"

S="$MCPAUTH_BUILD_DIR/tests/plugins/mcpauth_script.so"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat > "$T/policy.yaml" <<YAML
version: 1
limits: { max_request_bytes: 100 }
stack:
  - plugin: $S
    control: requisite
    name: who
    config: { vote: allow, principal: { key_id: k9, key_name: ci, role: admin } }
  - plugin: $S
    control: required
    name: gate
    config: { vote: deny, reason: rate_limited, retry_after: 7, detail: slow down }
YAML
cat > "$T/allow.yaml" <<YAML
version: 1
stack:
  - plugin: $S
    control: sufficient
    config: { vote: allow }
YAML

run "$MCPAUTH" policy check "$T/policy.yaml"
expect_rc 0
expect_out "ok, 2 entries"
expect_out "requisite  who"
expect_out "mcpauth_script.so"

run "$MCPAUTH" check --policy "$T/policy.yaml" --trace
expect_rc 1
expect_line1 "deny rate_limited"
expect_out "http_status: 429"
expect_out "retry_after: 7"
expect_out "principal: key_id=k9 name=ci role=admin"
expect_out "trace: who"
expect_out "slow down"

run "$MCPAUTH" check --policy "$T/allow.yaml" --tool get_status
expect_rc 0
expect_line1 "allow"

run "$MCPAUTH" check --policy "$T/policy.yaml" --bytes 101 --json
expect_rc 1
expect_out '"reason":"too_large"'
expect_out '"http_status":413'
expect_out '"plugin":"limits"'

run "$MCPAUTH" check --policy "$T/allow.yaml" --repeat 3 --json
expect_rc 0
expect_count '"allowed":true' 3

printf '%s\n' '{"ip":"127.0.0.1","tool":"x"}' '' '{"bytes":5,"now":"2026-01-01T00:00:00Z"}' > "$T/req.jsonl"
run "$MCPAUTH" check --policy "$T/allow.yaml" --requests "$T/req.jsonl"
expect_rc 0
expect_count '"allowed":true' 2

printf '%s\n' '{"bytes":1}' | "$MCPAUTH" check --policy "$T/policy.yaml" --requests - > "$T/out" 2>&1
[ $? -eq 1 ] || fail "--requests - on a deny should exit 1"
grep -q '"reason":"rate_limited"' "$T/out" || fail "stdin requests not decided"

# Bad input: one clear line and exit 2.
printf '%s\n' '{"bytes":1}' 'not json' > "$T/bad.jsonl"
run "$MCPAUTH" check --policy "$T/allow.yaml" --requests "$T/bad.jsonl"
expect_rc 2
expect_out "requests line 2: not a JSON object"
printf '%s\n' '{"colour":"red"}' > "$T/bad2.jsonl"
run "$MCPAUTH" check --policy "$T/allow.yaml" --requests "$T/bad2.jsonl"
expect_rc 2
expect_out "unknown field 'colour'"
printf '%s\n' '{"now":"yesterday"}' > "$T/bad3.jsonl"
run "$MCPAUTH" check --policy "$T/allow.yaml" --requests "$T/bad3.jsonl"
expect_rc 2
expect_out "not an RFC 3339 time"
run "$MCPAUTH" check --policy "$T/allow.yaml" --now tomorrow
expect_rc 2
run "$MCPAUTH" check --policy "$T/allow.yaml" --frobnicate
expect_rc 2
expect_out "unknown or incomplete option"
run "$MCPAUTH" check --tool x
expect_rc 2
expect_out "--policy FILE is required"
run "$MCPAUTH" check --policy "$T/allow.yaml" --bytes -4
expect_rc 2
expect_out "--bytes: -4 is negative"
expect_no_out "allow"
# Numbers too large for their field are refused, not clamped to a maximum
# and decided on as if the user had typed that.
run "$MCPAUTH" check --policy "$T/allow.yaml" --bytes 99999999999999999999999
expect_rc 2
expect_out "--bytes: 99999999999999999999999 is out of range (0 to 18446744073709551615)"
expect_no_out "allow"
run "$MCPAUTH" check --policy "$T/allow.yaml" --bytes 18446744073709551616
expect_rc 2
expect_out "out of range"
run "$MCPAUTH" check --policy "$T/policy.yaml" --bytes 18446744073709551615
expect_rc 1
expect_line1 "deny too_large"
for v in +5 " 5" 5x "" 0x10; do
    run "$MCPAUTH" check --policy "$T/allow.yaml" --bytes "$v"
    expect_rc 2
    expect_out "--bytes: '$v' is not a number"
done
# A huge --repeat that slipped through would print decisions for ever: keep
# only the first lines (the CLI dies of SIGPIPE after them), so a broken
# build fails here instead of hanging.
run_capped() {
    _out=$("$@" 2>&1 | head -n 3; exit "${PIPESTATUS[0]}")
    _rc=$?
    _last="$*"
}
run_capped "$MCPAUTH" check --policy "$T/allow.yaml" --repeat 99999999999999999999999
expect_rc 2
expect_out "--repeat: 99999999999999999999999 is out of range (1 to 9223372036854775807)"
expect_no_out "allow"
run_capped "$MCPAUTH" check --policy "$T/allow.yaml" --repeat 9223372036854775808
expect_rc 2
expect_out "out of range"
run "$MCPAUTH" check --policy "$T/allow.yaml" --repeat -3
expect_rc 2
expect_out "--repeat: -3 is negative"
run "$MCPAUTH" check --policy "$T/allow.yaml" --repeat 0
expect_rc 2
expect_out "--repeat: 0 is out of range (1 to"
expect_no_out "allow"

# A trace longer than the CLI shows says how many entries it left out.
{
    printf 'version: 1\nstack:\n'
    for i in $(seq 1 70); do
        printf '  - plugin: %s\n    control: optional\n    name: n%s\n    config: { vote: abstain }\n' "$S" "$i"
    done
    printf '  - plugin: %s\n    control: required\n    name: last\n    config: { vote: allow }\n' "$S"
} > "$T/long.yaml"
run "$MCPAUTH" check --policy "$T/long.yaml" --trace
expect_rc 0
expect_count "trace: n" 64
expect_out "trace: ... and 7 more entries, not shown (at most 64 are)"
run "$MCPAUTH" check --policy "$T/long.yaml" --trace --json
expect_rc 0
expect_out '"trace_omitted":7'
run "$MCPAUTH" check --policy "$T/allow.yaml" --trace --json
expect_no_out "trace_omitted"
run "$MCPAUTH" check --policy "$T/allow.yaml" --trace
expect_no_out "more entr"

printf 'version: 1\nstack:\n  - plugin: nope\n    control: required\n' > "$T/bad.yaml"
run "$MCPAUTH" policy check "$T/bad.yaml"
expect_rc 2
expect_out "bad.yaml:3:13: plugin 'nope': not found"
run "$MCPAUTH" check --policy "$T/bad.yaml"
expect_rc 2
run "$MCPAUTH" policy
expect_rc 2
run "$MCPAUTH" frob
expect_rc 2
expect_out "unknown verb 'frob'"

finish
