# lib.sh: tiny assertion helpers for the CLI shell tests (sourced).
MCPAUTH="${MCPAUTH_BIN_DIR:?}/mcpauth"
_fails=0
_checks=0
_out=""
_rc=0

fail() { echo "FAIL: $*" >&2; _fails=$((_fails + 1)); }
# run CMD...: capture stdout+stderr and the exit code.
run() { _out=$("$@" 2>&1); _rc=$?; _last="$*"; }
expect_rc() {
    _checks=$((_checks + 1))
    [ "$_rc" -eq "$1" ] || fail "exit $_rc, expected $1: $_last"$'\n'"$_out"
}
expect_out() {
    _checks=$((_checks + 1))
    case "$_out" in *"$1"*) ;; *) fail "output lacks '$1': $_last"$'\n'"$_out" ;; esac
}
expect_no_out() {
    _checks=$((_checks + 1))
    case "$_out" in *"$1"*) fail "output has '$1': $_last"$'\n'"$_out" ;; esac
}
expect_line1() {
    _checks=$((_checks + 1))
    [ "$(printf '%s\n' "$_out" | head -n1)" = "$1" ] || fail "first line is not '$1': $_last"$'\n'"$_out"
}
expect_count() {
    _checks=$((_checks + 1))
    local n
    n=$(printf '%s\n' "$_out" | grep -cF -- "$1")
    [ "$n" -eq "$2" ] || fail "'$1' seen $n times, expected $2: $_last"$'\n'"$_out"
}
finish() {
    echo "$((_checks - _fails)) passed, $_fails failed"
    [ "$_fails" -eq 0 ]
}
