#!/usr/bin/env bash
# test_fault_cli.sh: `mcpauth key` when the disk is full (RLIMIT_FSIZE via
# `ulimit -f`, SIGXFSZ ignored so that write() fails with EFBIG as on a full
# file system): a clear message, a non-zero exit, and the store unchanged.
set -u
. "${MCPAUTH_SOURCE_DIR:?}/tests/cli/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S="$T/keys/keys.yaml"

for n in one two k3 k4 k5 k6; do
    run "$MCPAUTH" key create --store "$S" --name $n --role operator
    expect_rc 0
done
[ "$(wc -c <"$S")" -gt 1024 ] || fail "store too small for the 1 KiB limit"
cp "$S" "$T/before.yaml"
ID=$("$MCPAUTH" key list --store "$S" --json | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' | head -n1)
[ -n "$ID" ] || fail "no key id listed"

# 1 KiB blocks: the store is larger than one block, so any rewrite fails.
full() { (trap '' XFSZ; ulimit -f 1; exec "$@"); }

for verb in "create --name three --role monitor" "revoke $ID" "rotate $ID" "update $ID --name renamed"; do
    # shellcheck disable=SC2086
    run full "$MCPAUTH" key $verb --store "$S"
    expect_rc 2
    expect_out "mcpauth: "
    expect_out "keys.yaml"
    expect_no_out "mcp_live_"   # no key is shown for a write that failed
    cmp -s "$S" "$T/before.yaml" || fail "store changed by a failed '$verb'"
done
[ "$(find "$T/keys" -name '*.tmp*' | wc -l)" -eq 0 ] || fail "temporary file left behind"

run "$MCPAUTH" key list --store "$S"
expect_rc 0
expect_out "one"
expect_out "two"
run "$MCPAUTH" key create --role monitor --store "$S" --name three
expect_rc 0
finish
