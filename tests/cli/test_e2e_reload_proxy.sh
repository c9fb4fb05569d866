#!/bin/bash
# test_e2e_reload_proxy.sh: mcp-demo-server's --trusted-proxy (X-Forwarded-For
# reaches the policy only from a trusted peer), SIGHUP (a new policy serves
# the next request; a broken one is refused and the old one keeps serving)
# and an IPv6 listener.
set -u
. "$(dirname "$0")/lib.sh"
. "${MCPAUTH_SOURCE_DIR:?}/tests/e2e/server.sh"

T=$(mktemp -d)
trap 'kill "$SRV_PID" 2>/dev/null; rm -rf "$T"' EXIT
SRV_PID=
mkdir -m 700 "$T/state"
key=$("$MCPAUTH" key create --store "$T/state/keys.yaml" --name ops --role admin --json |
      sed -n 's/^ *"key": "\(.*\)",$/\1/p')
# policy ALLOWED-CLIENT: only that client address, as told by a proxy on
# the loopback.
policy() {
    cat > "$T/state/policy.yaml" <<YAML
version: 1
stack:
  - plugin: ipwhitelist
    control: requisite
    config: { allow: [$1], trusted_proxies: [127.0.0.1, "::1"], per_key: false }
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
  - plugin: role
    control: required
YAML
}
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
# init [CURL ARGS]: initialize; _out is "STATUS BODY".
init() {
    run curl -s -o "$T/body" -w '%{http_code} ' -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' "$@" -d "$INIT" "$SRV_URL"
    _out="$_out$(cat "$T/body")"
}
# wait_log TEXT: block until the server's log shows TEXT (at most 20 s).
wait_log() {
    _checks=$((_checks + 1))
    grep -m1 -qF -- "$1" < <(timeout 20 tail -n +1 -f "$T/server.log") ||
        fail "the server never logged '$1'"
}

policy 10.1.2.3
srv_start "$T" "$MCPAUTH_BIN_DIR/mcp-demo-server" --policy "$T/state/policy.yaml" \
    --trusted-proxy 127.0.0.0/8 || { finish; exit 1; }
init -H 'X-Forwarded-For: 10.1.2.3';  expect_out "200 "
init;                                 expect_out "403 "; expect_out '"reason":"ip_denied"'
init -H 'X-Forwarded-For: 10.9.9.9';  expect_out "403 "

# SIGHUP with a new policy: 10.9.9.9 is now the allowed client.
policy 10.9.9.9
kill -HUP "$SRV_PID"
wait_log "SIGHUP: reloaded"
init -H 'X-Forwarded-For: 10.9.9.9';  expect_out "200 "
init -H 'X-Forwarded-For: 10.1.2.3';  expect_out "403 "
# SIGHUP with a broken policy: refused, the previous one keeps serving.
printf 'version: 1\nstack:\n  - plugin: no-such-plugin\n' > "$T/state/policy.yaml"
kill -HUP "$SRV_PID"
wait_log "reload failed, the previous policy keeps serving"
init -H 'X-Forwarded-For: 10.9.9.9';  expect_out "200 "
srv_stop
_rc=$SRV_RC; _last="SIGTERM"; _out=$(cat "$T/server.log")
expect_rc 0
expect_out "no-such-plugin"

# Without --trusted-proxy the header is dropped: the peer itself is judged.
policy 10.1.2.3
srv_start "$T" "$MCPAUTH_BIN_DIR/mcp-demo-server" --policy "$T/state/policy.yaml" ||
    { finish; exit 1; }
init -H 'X-Forwarded-For: 10.1.2.3';  expect_out "403 "; expect_out '"reason":"ip_denied"'
srv_stop

# Behind a trusted proxy each forwarded client is a client of its own for
# ratelimit and the audit log: bad keys from one lock that one out, and
# nobody else behind the same proxy.
cat > "$T/state/policy.yaml" <<YAML
version: 1
stack:
  - plugin: ratelimit
    control: requisite
    config: { requests_per_minute: 1000, by: ip, max_failed_attempts: 2 }
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
  - plugin: role
    control: required
  - plugin: audit-file
    control: required
    config: { path: audit.log, fsync: always }
YAML
srv_start "$T" "$MCPAUTH_BIN_DIR/mcp-demo-server" --policy "$T/state/policy.yaml" \
    --trusted-proxy 127.0.0.0/8 || { finish; exit 1; }
# bad CLIENT: initialize with a wrong key, forwarded for CLIENT.
bad() {
    run curl -s -o "$T/body" -w '%{http_code} ' -H "Authorization: Bearer mcp_live_nope" \
        -H 'Content-Type: application/json' -H "X-Forwarded-For: $1" -d "$INIT" "$SRV_URL"
    _out="$_out$(cat "$T/body")"
}
bad 10.6.6.6;                                   expect_out "401 "
bad "10.6.6.6, 127.0.0.1";                      expect_out "401 "
init -H 'X-Forwarded-For: 10.6.6.6';            expect_out "429 "; expect_out '"reason":"locked_out"'
init -H 'X-Forwarded-For: 10.0.0.2';            expect_out "200 "
init;                                           expect_out "200 "
srv_stop
run "$MCPAUTH" audit show "$T/state/audit.log" --json
expect_count '"client_ip":"10.6.6.6"' 3
expect_count '"client_ip":"10.0.0.2"' 1
expect_count '"client_ip":"127.0.0.1"' 1

# IPv6: listen on [::1] (when the loopback has IPv6).
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
    policy '"::1"'
    srv_start "$T" "$MCPAUTH_BIN_DIR/mcp-demo-server" --policy "$T/state/policy.yaml" \
        --listen '[::1]:0' || { finish; exit 1; }
    _out=$SRV_URL; _last="IPv6 URL"
    expect_out "http://[::1]:"
    run curl -g -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' -d "$INIT" "$SRV_URL"
    expect_out "200"
    srv_stop
    _out=$(cat "$T/server.log"); _last="server log"
    expect_out "::1 POST initialize -> 200"
else
    echo "no IPv6 on the loopback: the IPv6 listener is not tested here"
fi

# Bad options and a bad policy: exit 2 with a message.
run "$MCPAUTH_BIN_DIR/mcp-demo-server" --listen 127.0.0.1:99999
expect_rc 2; expect_out "port"
run "$MCPAUTH_BIN_DIR/mcp-demo-server" --trusted-proxy 10.0.0.0/33
expect_rc 2; expect_out "--trusted-proxy"
printf 'version: 1\nstack:\n  - plugin: role\n    control: sometimes\n' > "$T/state/bad.yaml"
run "$MCPAUTH_BIN_DIR/mcp-demo-server" --policy "$T/state/bad.yaml" --listen 127.0.0.1:0
expect_rc 2; expect_out "bad.yaml:4:"
finish
