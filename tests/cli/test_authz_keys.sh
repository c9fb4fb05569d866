#!/usr/bin/env bash
# test_authz_keys.sh: policy/home-automation.yaml end to end with real keys
# from `mcpauth key create`: roles, key types, per-key tools and addresses,
# per-role request size, all through `mcpauth check`.
set -u
BIN=${MCPAUTH_BIN_DIR:-build/bin}
SRC=${MCPAUTH_SOURCE_DIR:-.}
MCPAUTH="$BIN/mcpauth"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/authz_lib.sh"

# newkey ARGS...: create a key in the test store and print it.
newkey() {
    local out
    out=$("$MCPAUTH" key create --store "$T/keys.yaml" --json "$@" 2>&1) || {
        echo "FAIL: key create $* failed: $out" >&2
        return 1
    }
    sed -n 's/.*"key" *: *"\([^"]*\)".*/\1/p' <<<"$out"
}

cp "$SRC/policy/home-automation.yaml" "$T/policy.yaml"
P="$T/policy.yaml"

TABLET=$(newkey --name hall-tablet --role dashboard) || exit 1
RULES=$(newkey --name rules --role automation) || exit 1
RULES_TEST=$(newkey --name rules-test --role automation --type test) || exit 1
PORCH=$(newkey --name porch-sensor --role device --ip 192.168.1.40) || exit 1
PEEK=$(newkey --name peek --role dashboard --tool 'get_*') || exit 1

expect 0 "ok, 4 entries" -- policy check "$P"

# dashboard: monitor's reads plus its own switches, never locks.
expect 0 "^allow" -- check --policy "$P" --key "$TABLET" --ip 192.168.1.20 --tool set_light
expect 0 "role=dashboard" -- check --policy "$P" --key "$TABLET" --ip 192.168.1.20 \
    --tool get_temperature
expect 1 "role 'dashboard' may not call tool 'unlock_front_door'" -- \
    check --policy "$P" --key "$TABLET" --ip 192.168.1.20 --tool unlock_front_door --trace
expect 1 "^deny forbidden" -- check --policy "$P" --key "$TABLET" --ip 192.168.1.20 \
    --method logging/setLevel
expect 1 "^deny ip_denied" -- check --policy "$P" --key "$TABLET" --ip 203.0.113.9 \
    --tool get_temperature

# automation: live keys only, no disarming.
expect 0 "^allow" -- check --policy "$P" --key "$RULES" --ip 192.168.1.5 --tool set_heating
expect 1 "role 'automation' may not call tool 'disarm_alarm'" -- \
    check --policy "$P" --key "$RULES" --ip 192.168.1.5 --tool disarm_alarm --trace
expect 1 "may not be held by a test key" -- \
    check --policy "$P" --key "$RULES_TEST" --ip 192.168.1.5 --tool set_heating --trace

# device: bound to its address, small requests, report_* only.
expect 0 "^allow" -- check --policy "$P" --key "$PORCH" --ip 192.168.1.40 \
    --tool report_reading --bytes 512
expect 1 "not in the key's allowed addresses" -- \
    check --policy "$P" --key "$PORCH" --ip 192.168.1.41 --tool report_reading --trace
expect 1 "^deny too_large" -- check --policy "$P" --key "$PORCH" --ip 192.168.1.40 \
    --tool report_reading --bytes 5000
expect 1 "^deny forbidden" -- check --policy "$P" --key "$PORCH" --ip 192.168.1.40 \
    --tool set_light

# A key's own --tool patterns narrow its role.
expect 0 "^allow" -- check --policy "$P" --key "$PEEK" --ip 192.168.1.20 --tool get_temperature
expect 1 "key's own tool patterns exclude tool 'set_light'" -- \
    check --policy "$P" --key "$PEEK" --ip 192.168.1.20 --tool set_light --trace

# No key at all.
expect 1 "^deny no_credentials" -- check --policy "$P" --ip 192.168.1.20 --tool get_temperature

# A key whose role the policy does not define (the store accepts any name).
GHOST=$(newkey --name ghost --role ghost) && [ -n "$GHOST" ] || fail "key create --role ghost"
expect 1 "role 'ghost' is not defined by the policy" -- \
    check --policy "$P" --key "$GHOST" --ip 192.168.1.20 --method ping --trace

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "ok"
