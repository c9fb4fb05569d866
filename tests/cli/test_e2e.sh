#!/bin/bash
# test_e2e.sh: the official MCP TypeScript SDK (tests/e2e, pinned in its
# package-lock.json) against mcp-demo-server with the real plugin stack:
# ipwhitelist, apikey, ratelimit, role and audit-file. Afterwards the audit
# log verifies and holds one decision record per request the client sent.
set -u
. "$(dirname "$0")/lib.sh"
src=${MCPAUTH_SOURCE_DIR:?}
e2e=$src/tests/e2e
. "$e2e/server.sh"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: '$tool' is not installed; the e2e tests need Node.js (scripts/deps.sh installs it)" >&2
        exit 1
    fi
done
if [ ! -d "$e2e/node_modules/@modelcontextprotocol/sdk" ]; then
    if ! (cd "$e2e" && npm ci --no-audit --no-fund); then
        echo "FAIL: npm ci in $e2e failed: the SDK could not be installed" >&2
        exit 1
    fi
fi

T=$(mktemp -d)
trap 'kill "$SRV_PID" 2>/dev/null; rm -rf "$T"' EXIT
SRV_PID=

# new_key NAME ROLE: create a key in the store and print its text.
new_key() {
    "$MCPAUTH" key create --store "$T/state/keys.yaml" --name "$1" --role "$2" --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))'
}
new_id() {
    printf '%s' "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.split("_")[2].slice(0,12)))'
}
admin=$(new_key e2e-admin admin)
monitor=$(new_key e2e-monitor monitor)
device=$(new_key e2e-device device)
burst=$(new_key e2e-burst monitor)
revoked=$(new_key e2e-revoked monitor)
run "$MCPAUTH" key revoke "$(new_id "$revoked")" --store "$T/state/keys.yaml"
expect_rc 0

cat > "$T/state/policy.yaml" <<'YAML'
version: 1
limits:
  max_request_bytes: 65536
stack:
  - plugin: ipwhitelist
    name: loopback-only
    control: requisite
    config: { allow: [127.0.0.1, "::1"], per_key: false }
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
  - plugin: ratelimit
    name: per-key
    control: requisite
    config: { requests_per_minute: 60, burst: 20, by: auto, max_failed_attempts: 100 }
  - plugin: role
    control: required
  - plugin: audit-file
    control: optional
    config: { path: audit.log }
YAML

# MCP_E2E_SERVER=mcp-demo-server-asan runs the same tests against the
# sanitizer build.
server=$MCPAUTH_BIN_DIR/${MCP_E2E_SERVER:-mcp-demo-server}
if ! srv_start "$T" "$server" --policy "$T/state/policy.yaml"; then
    finish; exit 1
fi
keys=$(printf '{"admin":"%s","monitor":"%s","device":"%s","burst":"%s","revoked":"%s"}' \
    "$admin" "$monitor" "$device" "$burst" "$revoked")
: > "$T/requests.log"
(cd "$e2e" && MCP_E2E_URL=$SRV_URL MCP_E2E_KEYS=$keys MCP_E2E_REQUEST_LOG=$T/requests.log \
    node --test --test-concurrency=1 --test-reporter=spec roles.test.mjs denials.test.mjs)
_rc=$?; _last="node --test"; _out="(see above)"
expect_rc 0

srv_stop
_rc=$SRV_RC; _last="SIGTERM $server"; _out=$(cat "$T/server.log")
expect_rc 0
expect_no_out "Sanitizer"
expect_no_out "runtime error"

# Every JSON-RPC request passed one mcpauth_check and left one record.
# Notifications and DELETE (authenticated by a dry run) and GET (405 before
# any check) left none.
run "$MCPAUTH" audit verify "$T/state/audit.log"
expect_rc 0
sent=$(grep -c '^POST request$' "$T/requests.log")
_checks=$((_checks + 1))
grep -q '^POST notification$' "$T/requests.log" || fail "the SDK sent no notification?"
_checks=$((_checks + 1))
grep -q '^DELETE$' "$T/requests.log" || fail "the SDK sent no DELETE?"
run "$MCPAUTH" audit show "$T/state/audit.log" --event decision --json
expect_rc 0
expect_count '"event":"decision"' "$sent"
expect_out '"reason":"revoked"'
expect_out '"reason":"no_credentials"'
expect_out '"reason":"rate_limited"'
expect_out '"tool":"set_light"'
expect_no_out "$admin"
expect_no_out "$revoked"
echo "JSON-RPC requests sent: $sent"
finish
