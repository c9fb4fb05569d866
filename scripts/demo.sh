#!/bin/sh
# demo.sh: `make demo`. A fresh state directory with a key store holding an
# admin, a monitor and a device key; mcp-demo-server started on
# policy/default.yaml, with MCPAUTH_STATE_DIR naming the state directory (the
# policy keeps its key store and audit log there); then either
#   - the keys and three curl lines to paste, in the foreground until Ctrl-C;
#   - or, with MCPAUTH_DEMO_SCRIPTED=1, a walk through allowed, forbidden
#     and unauthenticated requests, printing each request and answer, then
#     `mcpauth audit verify`; exit 0 when every answer was the expected one.
#
# Settings (environment): MCPAUTH_DEMO_DIR (default BUILD/demo),
# MCPAUTH_DEMO_POLICY (default policy/default.yaml), MCPAUTH_DEMO_LISTEN
# (default 127.0.0.1:8787; a free port when scripted), MCPAUTH_BUILD_DIR or
# BUILD (default build).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MCPAUTH_BUILD_DIR:-${BUILD:-build}}
case "$build" in /*) ;; *) build=$root/$build ;; esac
bin=$build/bin
state=${MCPAUTH_DEMO_DIR:-$build/demo}
policy=${MCPAUTH_DEMO_POLICY:-$root/policy/default.yaml}
scripted=${MCPAUTH_DEMO_SCRIPTED:-0}
if [ "$scripted" = 1 ]; then listen=${MCPAUTH_DEMO_LISTEN:-127.0.0.1:0}
else listen=${MCPAUTH_DEMO_LISTEN:-127.0.0.1:8787}; fi

die() { echo "demo: $*" >&2; exit 1; }
for f in "$bin/mcpauth" "$bin/mcp-demo-server"; do
    [ -x "$f" ] || die "$f is missing: run 'make build' first"
done
[ -f "$policy" ] || die "no policy at $policy"
command -v curl >/dev/null 2>&1 || die "curl is not installed (scripts/deps.sh installs it)"
command -v node >/dev/null 2>&1 || die "node is not installed (scripts/deps.sh installs it)"

# A fresh state directory, readable by its owner only.
rm -rf "$state"
mkdir -p "$state"
chmod 700 "$state"
export MCPAUTH_STATE_DIR="$state"          # policy/default.yaml: keys.yaml, audit/
export MCPAUTH_STORE="$state/keys.yaml"    # for a policy whose apikey names no store
audit=$state/audit/audit.log

# new_key NAME ROLE: create a key and print its text (shown only this once).
new_key() {
    "$bin/mcpauth" key create --store "$MCPAUTH_STORE" --name "$1" --role "$2" --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))'
}
admin=$(new_key demo-admin admin)
monitor=$(new_key demo-monitor monitor)
device=$(new_key demo-device device)

# Start the server; its first line on stdout names the URL it listens on.
mkfifo "$state/server.out"
if [ "$scripted" = 1 ]; then
    "$bin/mcp-demo-server" --policy "$policy" --listen "$listen" \
        >"$state/server.out" 2>"$state/server.log" &
else
    "$bin/mcp-demo-server" --policy "$policy" --listen "$listen" \
        >"$state/server.out" &
fi
server=$!
exec 8<"$state/server.out"
read -r line <&8 || die "the server did not start (see above or $state/server.log)"
url=$(printf '%s\n' "$line" | sed -n 's|.*listening on \(http://[^ ]*\) .*|\1|p')
stop_server() {
    kill -TERM "$server" 2>/dev/null || true
    server_rc=0
    wait "$server" || server_rc=$?
}

# mcp KEY SESSION JSON: POST one message; prints the HTTP status, leaves the
# body in $state/answer and the headers in $state/answer.headers.
mcp() {
    set -- "$1" "$2" "$3"
    curl -s -o "$state/answer" -D "$state/answer.headers" -w '%{http_code}' "$url" \
        -H 'Content-Type: application/json' -H 'MCP-Protocol-Version: 2025-06-18' \
        ${1:+-H "Authorization: Bearer $1"} ${2:+-H "Mcp-Session-Id: $2"} -d "$3" || true
}
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
session_of() {
    mcp "$1" "" "$INIT" >/dev/null
    sed -n 's/^mcp-session-id: *\([0-9a-f]*\).*/\1/Ip' "$state/answer.headers"
}

# The three lines a person can paste. Sessions are opened in advance so
# that each line works alone (the check happens before the session test, so
# the unauthenticated line needs none).
demo_show() {
    admin_sid=$(session_of "$admin")
    monitor_sid=$(session_of "$monitor")
    set_light='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"set_light","arguments":{"room":"kitchen","on":false}}}'
    cat <<TEXT

mcp-demo-server is running at $url (policy: $policy)
State directory: $state (key store keys.yaml, audit log audit/audit.log)

Keys (shown once; the store keeps only their hashes):
  admin    $admin
  monitor  $monitor
  device   $device

Allowed: the admin switches the kitchen light off
  curl -i $url -H 'Content-Type: application/json' -H 'Authorization: Bearer $admin' -H 'Mcp-Session-Id: $admin_sid' -d '$set_light'

Forbidden (403): a monitor may read, not switch
  curl -i $url -H 'Content-Type: application/json' -H 'Authorization: Bearer $monitor' -H 'Mcp-Session-Id: $monitor_sid' -d '$set_light'

Unauthenticated (401): no key
  curl -i $url -H 'Content-Type: application/json' -d '$set_light'

Then: $bin/mcpauth audit show $audit
Ctrl-C stops the server (the audit log is flushed on the way out).
TEXT
}

walk_fail=0
# step EXPECTED WHO KEY SESSION JSON: one request of the walk, printed with
# its answer; a status other than EXPECTED fails the walk.
step() {
    expected=$1 who=$2
    printf '\n> POST /mcp as %s: %s\n' "$who" "$5"
    status=$(mcp "$3" "$4" "$5")
    answer=$(cat "$state/answer")
    [ ${#answer} -le 400 ] || answer="$(printf '%s' "$answer" | cut -c1-400)..."
    printf '< %s %s\n' "$status" "$answer"
    if [ "$status" != "$expected" ]; then
        echo "demo: FAIL: expected HTTP $expected" >&2
        walk_fail=1
    fi
}
call() {
    printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"
}

demo_walk() {
    echo "demo: server at $url; keys: admin $(printf %.21s "$admin")..., monitor $(printf %.21s "$monitor")..., device $(printf %.21s "$device")..."
    step 200 admin "$admin" "" "$INIT"
    a=$(sed -n 's/^mcp-session-id: *\([0-9a-f]*\).*/\1/Ip' "$state/answer.headers")
    step 202 admin "$admin" "$a" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    step 200 admin "$admin" "$a" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    step 200 admin "$admin" "$a" "$(call 3 set_light '{"room":"kitchen","on":false}')"
    step 200 monitor "$monitor" "" "$INIT"
    m=$(sed -n 's/^mcp-session-id: *\([0-9a-f]*\).*/\1/Ip' "$state/answer.headers")
    step 200 monitor "$monitor" "$m" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    step 200 monitor "$monitor" "$m" "$(call 3 get_status '{"room":"kitchen"}')"
    step 403 monitor "$monitor" "$m" "$(call 4 set_light '{"room":"kitchen","on":true}')"
    step 200 device "$device" "" "$INIT"
    d=$(sed -n 's/^mcp-session-id: *\([0-9a-f]*\).*/\1/Ip' "$state/answer.headers")
    step 200 device "$device" "$d" "$(call 2 report_sensor '{"room":"hall","temperature":19.5}')"
    step 403 device "$device" "$d" "$(call 3 set_blinds '{"room":"hall","position":0}')"
    step 401 "no key" "" "" "$(call 1 get_status '{}')"
    step 401 "a made-up key" "mcp_live_notARealKey" "" "$(call 1 get_status '{}')"
    stop_server
    echo
    if [ "$server_rc" -ne 0 ]; then
        echo "demo: FAIL: the server exited with $server_rc:" >&2
        cat "$state/server.log" >&2
        walk_fail=1
    fi
    echo "> mcpauth audit verify $audit"
    "$bin/mcpauth" audit verify "$audit" || walk_fail=1
    [ "$walk_fail" -eq 0 ] && echo "demo: every answer was the expected one"
    return "$walk_fail"
}

if [ "$scripted" = 1 ]; then
    demo_walk
    exit $?
fi
demo_show
trap 'stop_server' INT TERM
server_rc=0
wait "$server" || server_rc=$?
wait "$server" 2>/dev/null || true
echo "demo: server stopped; state kept in $state"
