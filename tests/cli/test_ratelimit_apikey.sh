#!/bin/bash
# test_ratelimit_apikey.sh: the documented two-entry stack (ratelimit by
# address, apikey, ratelimit by principal) with real keys: a burst limited
# per key and per address, and an address locked out after repeated bad
# keys, valid key or not, then released when the lockout ends.
set -euo pipefail

bin=${MCPAUTH_BIN_DIR:?}/mcpauth
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 700 "$dir"
fail=0

"$bin" key create --name alice --role admin --store "$dir/keys.yaml" \
    --now 2026-11-27T11:00:00Z --json > "$dir/alice.json"
key=$(sed -n 's/^ *"key": *"\([^"]*\)".*/\1/p' "$dir/alice.json")
[ -n "$key" ] || { echo "could not create a key" >&2; exit 1; }

cat > "$dir/policy.yaml" <<'YAML'
version: 1
stack:
  - plugin: ratelimit
    name: per_ip
    control: requisite
    config: { requests_per_minute: 60, burst: 5, by: ip,
              max_failed_attempts: 3, failure_window: 15m, lockout: 30m }
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
  - plugin: ratelimit
    name: per_key
    control: required
    config: { requests_per_minute: 60, burst: 2, by: principal,
              max_failed_attempts: 0 }
YAML

expect() { # LINE FIELD VALUE
    local got
    got=$(sed -n "${1}p" "$dir/out")
    if [[ "$got" != *"\"$2\":$3"* ]]; then
        echo "decision $1: expected \"$2\":$3 in: $got" >&2
        fail=1
    fi
}

req() { # KEY IP TIME
    printf '{"key":"%s","ip":"%s","method":"tools/call","tool":"ping","now":"%s"}\n' "$1" "$2" "$3"
}

run() { # REQUESTS-FILE EXPECTED-EXIT
    local rc=0
    "$bin" check --policy "$dir/policy.yaml" --requests "$1" > "$dir/out" || rc=$?
    [ "$rc" -eq "$2" ] || { echo "$1: exit $rc, expected $2" >&2; fail=1; }
}

# 1. Six requests with one key from one address at one instant: the key's
# budget (2) runs out first, then the address's (5); a second later the
# key may send one more.
{
    for _ in 1 2 3 4 5 6; do req "$key" 203.0.113.7 2026-11-27T12:00:00Z; done
    req "$key" 203.0.113.7 2026-11-27T12:00:01Z
} > "$dir/burst.jsonl"
run "$dir/burst.jsonl" 0
expect 1 allowed true
expect 2 allowed true
for n in 3 4 5; do
    expect $n reason '"rate_limited"'
    expect $n plugin '"per_key"'
    expect $n retry_after 1
done
expect 6 reason '"rate_limited"'
expect 6 plugin '"per_ip"'
expect 6 http_status 429
expect 7 allowed true

# 2. Three bad keys (wrong shape, right shape but unknown) lock the
# address out: alice's valid key is refused from there for 30 minutes,
# accepted from elsewhere, and accepted there again once it ends.
bad=mcp_live_0000000000000000000000000000000000000000000000000000000000
{
    req not-a-key 198.51.100.20 2026-11-27T13:00:00Z
    req "$bad" 198.51.100.20 2026-11-27T13:00:01Z
    req "${key}x" 198.51.100.20 2026-11-27T13:00:02Z
    req "$key" 198.51.100.20 2026-11-27T13:00:03Z
    req "$key" 192.0.2.55 2026-11-27T13:00:03Z
    req "$key" 198.51.100.20 2026-11-27T13:30:01Z
    req "$key" 198.51.100.20 2026-11-27T13:30:02Z
} > "$dir/lockout.jsonl"
run "$dir/lockout.jsonl" 0
for n in 1 2 3; do
    expect $n reason '"bad_credentials"'
    expect $n http_status 401
    expect $n plugin '"apikey"'
done
expect 4 reason '"locked_out"'
expect 4 http_status 429
expect 4 retry_after 1799
expect 4 plugin '"per_ip"'
expect 5 allowed true
expect 6 reason '"locked_out"'
expect 6 retry_after 1
expect 7 allowed true

exit $fail
