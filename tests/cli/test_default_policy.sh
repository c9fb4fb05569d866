#!/bin/bash
# policy/default.yaml end to end through `mcpauth check` with real keys:
# the stack a user gets by default, and ${VAR} paths in plugin configs.
set -u
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 700 "$T"
export MCPAUTH_STATE_DIR="$T/state"
P="$MCPAUTH_SOURCE_DIR/policy/default.yaml"
K="$MCPAUTH_STATE_DIR/keys.yaml"
key() { "$MCPAUTH" key create --store "$K" --name "$1" --role "$2" --json | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p'; }
ADMIN=$(key admin admin)
MON=$(key dash monitor)
DEV=$(key sensor device)
_checks=$((_checks + 1)); [ -n "$ADMIN" ] && [ -n "$MON" ] && [ -n "$DEV" ] || fail "key create"

run "$MCPAUTH" policy check "$P"
expect_rc 0
expect_out "ok, 7 entries"

run "$MCPAUTH" check --policy "$P" --key "$ADMIN" --ip 127.0.0.1 --tool set_light
expect_rc 0
expect_line1 "allow"
expect_out "role=admin"
run "$MCPAUTH" check --policy "$P" --key "$MON" --ip 127.0.0.1 --tool set_light
expect_rc 1
expect_line1 "deny forbidden"
expect_out "http_status: 403"
run "$MCPAUTH" check --policy "$P" --key "$MON" --ip 127.0.0.1 --tool get_status
expect_rc 0
run "$MCPAUTH" check --policy "$P" --key "$DEV" --ip ::1 --tool report_sensor
expect_rc 0
run "$MCPAUTH" check --policy "$P" --key "$DEV" --ip 127.0.0.1 --tool get_status
expect_line1 "deny forbidden"
# A production policy accepts live keys only: a test key, even an admin's,
# is refused as bad credentials.
TESTKEY=$("$MCPAUTH" key create --store "$K" --name tester --role admin --type test --json |
          sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
_checks=$((_checks + 1)); case "$TESTKEY" in mcp_test_*) ;; *) fail "key create --type test" ;; esac
run "$MCPAUTH" check --policy "$P" --key "$TESTKEY" --ip 127.0.0.1 --method ping
expect_rc 1
expect_line1 "deny bad_credentials"
run "$MCPAUTH" check --policy "$P" --ip 127.0.0.1 --method tools/list
expect_line1 "deny no_credentials"
expect_out "http_status: 401"
run "$MCPAUTH" check --policy "$P" --key "mcp_live_nope" --ip 127.0.0.1 --method ping
expect_line1 "deny bad_credentials"
run "$MCPAUTH" check --policy "$P" --key "$ADMIN" --ip 203.0.113.9 --method ping
expect_line1 "deny ip_denied"
run "$MCPAUTH" check --policy "$P" --key "$ADMIN" --ip 127.0.0.1 --method ping --bytes 2000000
expect_line1 "deny too_large"
expect_out "http_status: 413"
# Per-key burst of 20, then 429 with Retry-After.
run "$MCPAUTH" check --policy "$P" --key "$ADMIN" --ip 127.0.0.1 --method ping --now 2026-01-01T00:00:00Z --repeat 21 --json
expect_rc 1
expect_count '"allowed":true' 20
expect_out '"reason":"rate_limited","http_status":429,"retry_after":1'

# Every decision above is in the audit log, and it verifies.
run "$MCPAUTH" audit verify "$MCPAUTH_STATE_DIR/audit/audit.log"
expect_rc 0
run "$MCPAUTH" audit show "$MCPAUTH_STATE_DIR/audit/audit.log" --json
expect_count '"event":"decision"' 31

# The state directory comes from the environment; unset, the default is
# used, and a variable without a default must be set.
sed 's|${MCPAUTH_STATE_DIR:-/var/lib/mcpauth}|${MCPAUTH_TEST_UNSET_VAR}|' "$P" > "$T/p2.yaml"
run "$MCPAUTH" policy check "$T/p2.yaml"
expect_rc 2
expect_out "environment variable MCPAUTH_TEST_UNSET_VAR is not set"
finish
