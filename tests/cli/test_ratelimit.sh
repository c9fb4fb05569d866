#!/bin/bash
# test_ratelimit.sh: `mcpauth check --requests` with the issue's example
# (60 a minute, burst 5): eight requests at one instant give five allows and
# three rate_limited with retry_after 1, and one more passes a second later.
# Time comes from each request's "now". (test_ratelimit_apikey.sh has the
# two-entry stack and the lockout.)
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
    control: requisite
    config: { requests_per_minute: 60, burst: 5, by: ip }
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
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

{
    for _ in 1 2 3 4 5 6 7 8; do req "$key" 203.0.113.7 2026-11-27T12:00:00Z; done
    req "$key" 203.0.113.7 2026-11-27T12:00:01Z
    req "$key" 203.0.113.7 2026-11-27T12:00:01Z
    req "$key" 198.51.100.20 2026-11-27T12:00:01Z
} > "$dir/burst.jsonl"
rc=0
"$bin" check --policy "$dir/policy.yaml" --requests "$dir/burst.jsonl" > "$dir/out" || rc=$?
[ "$rc" -eq 0 ] || { echo "exit $rc, expected 0 (the last request is allowed)" >&2; fail=1; }
[ "$(wc -l < "$dir/out")" -eq 11 ] || { echo "expected 11 decisions" >&2; fail=1; }
for n in 1 2 3 4 5; do
    expect $n allowed true
    expect $n http_status 200
done
for n in 6 7 8; do
    expect $n allowed false
    expect $n reason '"rate_limited"'
    expect $n http_status 429
    expect $n retry_after 1
    expect $n plugin '"ratelimit"'
done
expect 9 allowed true     # one second later: one more,
expect 10 allowed false   # but only one
expect 10 reason '"rate_limited"'
expect 11 allowed true    # another address has its own budget

# A denied last decision makes the exit code 1.
for _ in 1 2 3 4 5 6; do req "$key" 203.0.113.9 2026-11-27T14:00:00Z; done > "$dir/six.jsonl"
rc=0
"$bin" check --policy "$dir/policy.yaml" --requests "$dir/six.jsonl" > "$dir/out" || rc=$?
[ "$rc" -eq 1 ] || { echo "six at once: exit $rc, expected 1" >&2; fail=1; }
expect 6 reason '"rate_limited"'

exit $fail
