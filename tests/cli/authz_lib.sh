# authz_lib.sh: the assertion both authorization scripts use (sourced by
# test_authz.sh and test_authz_keys.sh; needs MCPAUTH set).
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect RC PATTERN -- ARGS...: run mcpauth, want exit RC and PATTERN (grep -E)
# somewhere in stdout+stderr.
expect() {
    local rc=$1 pat=$2
    shift 3
    local out got
    out=$("$MCPAUTH" "$@" 2>&1)
    got=$?
    if [ "$got" != "$rc" ]; then
        fail "mcpauth $* exited $got, wanted $rc"$'\n'"$out"
    elif ! grep -Eq -- "$pat" <<<"$out"; then
        fail "mcpauth $* did not print /$pat/"$'\n'"$out"
    fi
}
