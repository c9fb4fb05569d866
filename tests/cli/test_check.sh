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
