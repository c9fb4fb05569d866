#!/bin/bash
# test_e2e_malformed.sh: bad bodies against the server built with
# AddressSanitizer and UBSan (mcp-demo-server-asan) behind the real stack.
# Each gets its proper JSON-RPC error or HTTP status, the server never
# crashes, and it exits 0 on SIGTERM with no sanitizer report (leaks
# included).
set -u
. "$(dirname "$0")/lib.sh"
. "${MCPAUTH_SOURCE_DIR:?}/tests/e2e/server.sh"

server=$MCPAUTH_BIN_DIR/mcp-demo-server-asan
if [ ! -x "$server" ]; then
    echo "FAIL: $server was not built (the compiler lacks -fsanitize=address?)" >&2
    exit 1
fi
T=$(mktemp -d)
trap 'kill "$SRV_PID" 2>/dev/null; rm -rf "$T"' EXIT
SRV_PID=
mkdir -m 700 "$T/state"
key=$("$MCPAUTH" key create --store "$T/state/keys.yaml" --name asan --role admin --json |
      sed -n 's/^ *"key": "\(.*\)",$/\1/p')
cat > "$T/state/policy.yaml" <<'YAML'
version: 1
limits:
  max_request_bytes: 65536
stack:
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
  - plugin: role
    control: required
  - plugin: audit-file
    control: optional
    config: { path: audit.log }
YAML
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
if ! srv_start "$T" "$server" --policy "$T/state/policy.yaml"; then
    finish; exit 1
fi

# rpc [CURL ARGS...]: POST to the server with the key and a session; sets
# _out to "STATUS BODY" and _rc to curl's exit code.
rpc() {
    run curl -s -o "$T/body" -w '%{http_code} ' -H "Authorization: Bearer $key" \
        -H "Content-Type: $ctype" -H "Mcp-Session-Id: $sid" "$@" "$SRV_URL"
    _out="$_out$(cat "$T/body" 2>/dev/null)"
}
# expect_answer STATUS TEXT CURL-ARGS...
expect_answer() {
    local status=$1 text=$2
    shift 2
    rpc "$@"
    expect_rc 0
    expect_out "$status "
    expect_out "$text"
}

sid=none
ctype=application/json
run curl -s -D "$T/headers" -o /dev/null -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' "$SRV_URL"
sid=$(sed -n 's/^Mcp-Session-Id: \([0-9a-f]*\).*/\1/Ip' "$T/headers")
_checks=$((_checks + 1)); [ ${#sid} -eq 32 ] || fail "no session id from initialize"

expect_answer 400 '"code":-32700' -d '{bad'
expect_answer 400 '"code":-32700' -d ''
expect_answer 400 '"code":-32700' --data-binary $'{"jsonrpc":"2.0","id":1,"method":"p\xffing"}'
printf '{"jsonrpc":"2.0","id":1,"method":"ping"}\000junk' > "$T/nul"
expect_answer 400 '"code":-32700' --data-binary "@$T/nul"
printf '%*s' 60000 '' | tr ' ' '[' > "$T/deep"
expect_answer 400 '"code":-32700' --data-binary "@$T/deep"
expect_answer 400 '"code":-32600' -d '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
expect_answer 400 '"code":-32600' -d '"just a string"'
expect_answer 400 '"code":-32600' -d '{"jsonrpc":"2.0","id":7}'
expect_answer 400 '"code":-32600' -d '{"jsonrpc":"2.0","id":7,"method":42}'
expect_answer 400 '"code":-32600' -d '{"jsonrpc":"1.0","id":7,"method":"ping"}'
expect_answer 400 '"code":-32600' -d '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'
expect_answer 400 '"code":-32600' -d '{"jsonrpc":"2.0","id":7,"method":"ping","params":"x"}'
expect_answer 200 '"code":-32601' -d '{"jsonrpc":"2.0","id":7,"method":"no/such/method"}'
expect_answer 200 '"code":-32602' -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"set_light","arguments":[1]}}'
expect_answer 200 '"code":-32602' -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"set_light","arguments":{"room":"hall","on":"yes"}}}'
expect_answer 200 '"code":-32602' -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"set_light","arguments":{"room":"hall","on":true,"extra":1}}}'
expect_answer 200 '"code":-32002' -d '{"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"home://rooms/../../etc/passwd"}}'
head -c 70000 /dev/zero | tr '\0' ' ' > "$T/big"
expect_answer 413 '"reason":"too_large"' --data-binary "@$T/big"
head -c 5000000 /dev/zero | tr '\0' ' ' > "$T/huge"
expect_answer 413 '"reason":"too_large"' -H 'Transfer-Encoding: chunked' --data-binary "@$T/huge"
expect_answer 413 '"reason":"too_large"' --data-binary "@$T/huge"
ctype=text/plain
expect_answer 415 '"code":-32000' -d '{"jsonrpc":"2.0","id":7,"method":"ping"}'
ctype=application/json
expect_answer 400 'MCP-Protocol-Version' -H 'MCP-Protocol-Version: 1999-01-01' -d '{"jsonrpc":"2.0","id":7,"method":"ping"}'
expect_answer 403 'Origin' -H 'Origin: http://localhost.evil.example' -d '{"jsonrpc":"2.0","id":7,"method":"ping"}'
expect_answer 200 '"result":{}' -H 'Origin: http://localhost:6274' -d '{"jsonrpc":"2.0","id":7,"method":"ping"}'
# Without a key, garbage is refused as unauthenticated, not parsed for them.
key=
expect_answer 401 '"reason":"no_credentials"' -d '{bad'

srv_stop
_rc=$SRV_RC; _last="SIGTERM $server"; _out=$(cat "$T/server.log")
expect_rc 0
expect_no_out "AddressSanitizer"
expect_no_out "LeakSanitizer"
expect_no_out "runtime error"
run "$MCPAUTH" audit verify "$T/state/audit.log"
expect_rc 0
finish
