#!/bin/bash
# test_demo.sh: `MCPAUTH_DEMO_SCRIPTED=1 make demo` as a user runs it:
# scripts/demo.sh walks allowed, forbidden and unauthenticated requests
# against mcp-demo-server on policy/default.yaml, verifies the audit log and
# exits 0. The state directory and key store are private to their owner.
set -u
. "$(dirname "$0")/lib.sh"
src=${MCPAUTH_SOURCE_DIR:?}

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run env MCPAUTH_DEMO_SCRIPTED=1 MCPAUTH_DEMO_DIR="$T/demo" MCPAUTH_BUILD_DIR="$MCPAUTH_BUILD_DIR" \
    sh "$src/scripts/demo.sh"
expect_rc 0
expect_out "demo: every answer was the expected one"
expect_out '< 403 {"jsonrpc":"2.0","id":4,"error":{"code":-32003'
expect_out '"reason":"forbidden"'
expect_out '"reason":"no_credentials"'
expect_out '"reason":"bad_credentials"'
# 14 steps, one of them a notification (not a request: not audited).
expect_out "ok: 13 records"
expect_no_out "FAIL"
_checks=$((_checks + 1))
[ "$(stat -c %a "$T/demo")" = 700 ] || fail "state directory mode $(stat -c %a "$T/demo"), expected 700"
_checks=$((_checks + 1))
[ "$(stat -c %a "$T/demo/keys.yaml")" = 600 ] || fail "key store mode $(stat -c %a "$T/demo/keys.yaml"), expected 600"

# The interactive demo prints the keys and three curl lines, and stops
# cleanly on SIGINT (what Ctrl-C sends).
mkfifo "$T/show"
MCPAUTH_DEMO_DIR="$T/demo2" MCPAUTH_DEMO_LISTEN=127.0.0.1:0 MCPAUTH_BUILD_DIR="$MCPAUTH_BUILD_DIR" \
    setsid sh "$src/scripts/demo.sh" >"$T/show" 2>"$T/show.err" &
demo=$!
exec 7<"$T/show"   # held open until the demo ends, so its last words have a reader
shown=""
while IFS= read -r line; do
    shown="$shown$line"$'\n'
    case "$line" in "Ctrl-C stops"*) break ;; esac
done <&7
_out=$shown; _last="demo (interactive)"
expect_count "curl -i http://127.0.0.1:" 3
expect_out "Forbidden (403)"
expect_out "Unauthenticated (401)"
# Paste the three lines, as a person would.
while IFS= read -r cmd; do
    run bash -c "$cmd -s -o /dev/null -w '%{http_code}'"
    printf '%s\n' "$_out" >>"$T/codes"
done < <(printf '%s\n' "$shown" | grep '^  curl -i ')
_out=$(tr '\n' ' ' <"$T/codes"); _last="the three curl lines"
expect_out "200 403 401"
kill -INT -- "-$demo"
wait "$demo"
_rc=$?; _last="SIGINT to the interactive demo"; _out=$(cat "$T/show.err")
expect_rc 0
_out=$(cat <&7); exec 7<&-
expect_out "demo: server stopped"
run "$MCPAUTH" audit verify "$T/demo2/audit/audit.log"
expect_rc 0
finish
