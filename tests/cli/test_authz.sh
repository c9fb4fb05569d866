#!/usr/bin/env bash
# test_authz.sh: the role and ipwhitelist plugins through `mcpauth check` and
# `mcpauth policy check`, as a user runs them. The principal comes from the
# core's scripted test plugin, so these run without the apikey plugin;
# test_authz_keys.sh repeats the story with real keys.
set -u
BIN=${MCPAUTH_BIN_DIR:-build/bin}
BUILD=$(cd "${MCPAUTH_BUILD_DIR:-build}" && pwd)
MCPAUTH="$BIN/mcpauth"
SCRIPT_SO="$BUILD/tests/plugins/mcpauth_script.so"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/authz_lib.sh"

# policy NAME ROLE [EXTRA_PRINCIPAL]: a stack of script (principal with ROLE),
# ipwhitelist (LAN only, one trusted proxy) and role with custom roles.
policy() {
    cat >"$T/$1.yaml" <<YAML
version: 1
stack:
  - plugin: $SCRIPT_SO
    name: auth
    control: optional
    config:
      vote: abstain
      principal: { key_id: k1, key_name: $2, role: $2${3:+, $3} }
  - plugin: ipwhitelist
    control: requisite
    config:
      allow: [192.168.0.0/16, "fd00::/8"]
      deny: [192.168.66.0/24]
      trusted_proxies: [10.0.0.1]
  - plugin: role
    control: required
    config:
      roles:
        dashboard:
          inherits: [monitor]
          tools: [set_light, set_scene]
          deny_tools: ["unlock_*"]
        device:
          methods: [initialize, ping, tools/list, tools/call]
          tools: ["report_*"]
          max_request_bytes: 4096
        rules:
          inherits: [dashboard]
          key_types: [live]
YAML
    echo "$T/$1.yaml"
}

if [ ! -f "$SCRIPT_SO" ]; then
    echo "FAIL: $SCRIPT_SO is not built"
    exit 1
fi

P=$(policy dash dashboard)
expect 0 "ok, 3 entries" -- policy check "$P"
# The role's own tools, what it inherits from monitor, and what it may not.
expect 0 "^allow" -- check --policy "$P" --ip 192.168.1.20 --tool set_light
expect 0 "^allow" -- check --policy "$P" --ip 192.168.1.20 --tool get_temperature
expect 0 "^allow" -- check --policy "$P" --ip 192.168.1.20 --method prompts/list
expect 1 "role 'dashboard' may not call tool 'unlock_front_door'" -- \
    check --policy "$P" --ip 192.168.1.20 --tool unlock_front_door --trace
expect 1 "^deny forbidden" -- check --policy "$P" --ip 192.168.1.20 --tool set_heat
expect 1 "http_status: 403" -- check --policy "$P" --ip 192.168.1.20 \
    --method logging/setLevel
expect 1 '"reason":"forbidden"' -- check --policy "$P" --ip 192.168.1.20 \
    --method admin/keys --json

# Addresses: outside the LAN, on the deny list, unparseable, spoofed.
expect 1 "^deny ip_denied" -- check --policy "$P" --ip 203.0.113.9 --tool get_x
expect 1 "client 192.168.66.6 is on the deny list" -- \
    check --policy "$P" --ip 192.168.66.6 --tool get_x --trace
expect 0 "^allow" -- check --policy "$P" --ip ::ffff:192.168.1.20 --tool get_x
expect 1 "^deny ip_denied" -- check --policy "$P" --ip not-an-address --tool get_x
expect 1 "client 203.0.113.9 is not on the allow list" -- \
    check --policy "$P" --ip 203.0.113.9 --forwarded-for 192.168.1.20 \
    --tool get_x --trace
expect 0 "^allow" -- check --policy "$P" --ip 10.0.0.1 \
    --forwarded-for 192.168.1.20 --tool get_x
expect 1 "client 203.0.113.9 is not on the allow list" -- \
    check --policy "$P" --ip 10.0.0.1 --forwarded-for "192.168.1.20, 203.0.113.9" \
    --tool get_x --trace

# A device: small requests only, report_* tools only.
P=$(policy dev device)
expect 0 "^allow" -- check --policy "$P" --ip 192.168.1.40 --tool report_reading \
    --bytes 4096
expect 1 "^deny too_large" -- check --policy "$P" --ip 192.168.1.40 \
    --tool report_reading --bytes 4097
expect 1 "http_status: 413" -- check --policy "$P" --ip 192.168.1.40 \
    --tool report_reading --bytes 4097
expect 1 "^deny forbidden" -- check --policy "$P" --ip 192.168.1.40 --tool set_light

# A key's own tool patterns narrow its role; its own addresses bind it.
P=$(policy narrow dashboard "allowed_tools: [get_*], allowed_ips: [192.168.1.40]")
expect 0 "^allow" -- check --policy "$P" --ip 192.168.1.40 --tool get_x
expect 1 "key's own tool patterns exclude tool 'set_light'" -- \
    check --policy "$P" --ip 192.168.1.40 --tool set_light --trace
expect 1 "not in the key's allowed addresses" -- \
    check --policy "$P" --ip 192.168.1.41 --tool get_x --trace

# key_types: a test key cannot hold a live-only role.
P=$(policy typed rules "key_type: test")
expect 1 "role 'rules' may not be held by a test key" -- \
    check --policy "$P" --ip 192.168.1.20 --tool get_x --trace
P=$(policy typed2 rules "key_type: live")
expect 0 "^allow" -- check --policy "$P" --ip 192.168.1.20 --tool set_scene

# A role the policy does not define.
P=$(policy ghost ghost)
expect 1 "role 'ghost' is not defined by the policy" -- \
    check --policy "$P" --ip 192.168.1.20 --method ping --trace

# Policy errors name file:line:col.
cat >"$T/cycle.yaml" <<'YAML'
version: 1
stack:
  - plugin: role
    control: required
    config:
      roles:
        a: { inherits: [b] }
        b: { inherits: [monitor, a] }
YAML
expect 2 "cycle.yaml:8:34: .*inheritance cycle: a -> b -> a" -- policy check "$T/cycle.yaml"
cat >"$T/cidr.yaml" <<'YAML'
version: 1
stack:
  - plugin: ipwhitelist
    control: requisite
    config:
      allow:
        - 10.0.0.0/8
        - 10.0.0.0/40
YAML
expect 2 "cidr.yaml:8:11: .*prefix length" -- policy check "$T/cidr.yaml"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "ok"
