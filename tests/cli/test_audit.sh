#!/bin/bash
# mcpauth audit show / verify on a log written by `mcpauth check` through the
# audit-file plugin, with the scripted test plugin deciding.
set -u
. "$(dirname "$0")/lib.sh"

S="$MCPAUTH_BUILD_DIR/tests/plugins/mcpauth_script.so"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
policy() { # FILE VOTE REASON KEY
    cat > "$T/$1" <<YAML
version: 1
stack:
  - plugin: $S
    control: required
    name: gate
    config: { vote: $2, reason: $3, principal: { key_id: $4, key_name: n-$4 } }
  - plugin: audit-file
    control: optional
    config: { path: logs/audit.log, rotate_bytes: 4000, keep: 20 }
YAML
}
policy allow.yaml allow ok k1
policy deny.yaml deny forbidden k2
policy limit.yaml deny rate_limited k1
LOG="$T/logs/audit.log"

run "$MCPAUTH" check --policy "$T/allow.yaml" --tool read --now 2026-09-21T10:00:00Z --repeat 20
expect_rc 0
run "$MCPAUTH" check --policy "$T/deny.yaml" --tool deploy --ip 203.0.113.9 --now 2026-09-21T11:00:00Z
expect_rc 1
run "$MCPAUTH" check --policy "$T/limit.yaml" --tool read --now 2026-09-21T12:00:00Z --repeat 3
expect_rc 1
[ -f "$LOG.1" ] || fail "the log did not rotate"

# verify: 3 policy.loaded + 24 decisions, across rotated files
run "$MCPAUTH" audit verify "$LOG"
expect_rc 0
expect_out "ok: 27 records in "
expect_out "seq 1..27 (complete from the first record)"
expect_out "last hash: "
KEPT=$(printf '%s\n' "$_out" | sed -n 's/^last hash: //p')
[ ${#KEPT} -eq 64 ] || fail "last hash is not 64 hex digits: $KEPT"

# show: a table, filters, JSON lines
run "$MCPAUTH" audit show "$LOG"
expect_rc 0
expect_line1 "$(printf '%-24s  %6s  %-22s%-18s%-16s%s' TIME SEQ DECISION/EVENT KEY CLIENT REQUEST/DETAIL)"
expect_count "policy.loaded" 3
run "$MCPAUTH" audit show "$LOG" --decision deny
expect_count "deny  forbidden" 1
expect_count "deny  rate_limited" 3
expect_no_out "allow"
expect_out "203.0.113.9"
run "$MCPAUTH" audit show "$LOG" --key k1 --json
expect_rc 0
expect_count '{"seq":' 23
expect_count '"key_id":"k1"' 23
run "$MCPAUTH" audit show "$LOG" --reason rate_limited --json
expect_count '"reason":"rate_limited"' 3
expect_count '{"seq":' 3
run "$MCPAUTH" audit show "$LOG" --since 2026-09-21T10:30:00Z --decision deny --json
expect_count '{"seq":' 4
run "$MCPAUTH" audit show "$LOG" --event policy.loaded --json
expect_count '{"seq":' 3

# usage errors
run "$MCPAUTH" audit
expect_rc 2
run "$MCPAUTH" audit show
expect_rc 2
run "$MCPAUTH" audit show "$LOG" --decision maybe
expect_rc 2
run "$MCPAUTH" audit show "$LOG" --reason bogus
expect_rc 2
run "$MCPAUTH" audit show "$LOG" --since yesterday
expect_rc 2
run "$MCPAUTH" audit verify "$T/nothing.log"
expect_rc 2
expect_out "no such audit log"
run "$MCPAUTH" audit frobnicate "$LOG"
expect_rc 2

# a cut tail verifies alone, but not against the hash kept elsewhere
cp "$LOG" "$T/saved"
sed -i '$d' "$LOG"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 0
run "$MCPAUTH" audit verify "$LOG" --anchor "$KEPT"
expect_rc 1
expect_out "truncated"
cp "$T/saved" "$LOG"
run "$MCPAUTH" audit verify "$LOG" --anchor "$KEPT"
expect_rc 0

# an edited record: file and line of the first record that does not verify
N=$(wc -l < "$LOG")
sed -i '$s/"allowed":false/"allowed":true/' "$LOG"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 1
expect_out "FAILED: $LOG:$N: the hash does not match the record: it was edited"
cp "$T/saved" "$LOG"

# a deleted record in a rotated file
sed -i '3d' "$LOG.1"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 1
expect_out "FAILED: $LOG.1:3: "

finish
