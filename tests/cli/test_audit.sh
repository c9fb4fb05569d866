#!/bin/bash
# mcpauth audit show / verify on a log written by `mcpauth check` through the
# audit-file plugin, with the scripted test plugin deciding; a forged tool
# name that stays inside its field; reordered and deleted records; and key
# events recorded while `mcpauth key` changes the store under a running
# policy.
set -u
. "$(dirname "$0")/lib.sh"

S="$MCPAUTH_BUILD_DIR/tests/plugins/mcpauth_script.so"
T=$(mktemp -d)
CHK='' TAIL=''
trap 'kill $CHK $TAIL 2>/dev/null; rm -rf "$T"' EXIT
policy() { # FILE VOTE REASON KEY [LOG]
    cat > "$T/$1" <<YAML
version: 1
stack:
  - plugin: $S
    control: required
    name: gate
    config: { vote: $2, reason: $3, principal: { key_id: $4, key_name: n-$4 } }
  - plugin: audit-file
    control: optional
    config: { path: ${5:-logs/audit.log}, rotate_bytes: 4000, keep: 20 }
YAML
}
policy allow.yaml allow ok k1
policy deny.yaml deny forbidden k2
policy limit.yaml deny rate_limited k1
LOG="$T/logs/audit.log"

run "$MCPAUTH" check --policy "$T/allow.yaml" --tool read --now 2026-09-21T10:00:00Z --repeat 20
expect_rc 0
run "$MCPAUTH" check --policy "$T/deny.yaml" --tool deploy --ip 203.0.113.9 --now 2026-09-21T11:00:00Z
expect_rc 1
run "$MCPAUTH" check --policy "$T/limit.yaml" --tool read --now 2026-09-21T12:00:00Z --repeat 3
expect_rc 1
[ -f "$LOG.1" ] || fail "the log did not rotate"

# verify: 3 policy.loaded + 24 decisions, across rotated files
run "$MCPAUTH" audit verify "$LOG"
expect_rc 0
expect_out "ok: 27 records in "
expect_out "seq 1..27 (complete from the first record)"
expect_out "last hash: "
KEPT=$(printf '%s\n' "$_out" | sed -n 's/^last hash: //p')
[ ${#KEPT} -eq 64 ] || fail "last hash is not 64 hex digits: $KEPT"

# show: a table, filters, JSON lines
run "$MCPAUTH" audit show "$LOG"
expect_rc 0
expect_line1 "$(printf '%-24s  %6s  %-22s%-18s%-16s%s' TIME SEQ DECISION/EVENT KEY CLIENT REQUEST/DETAIL)"
expect_count "policy.loaded" 3
run "$MCPAUTH" audit show "$LOG" --decision deny
expect_count "deny  forbidden" 1
expect_count "deny  rate_limited" 3
expect_no_out "allow"
expect_out "203.0.113.9"
run "$MCPAUTH" audit show "$LOG" --key k1 --json
expect_rc 0
expect_count '{"seq":' 23
expect_count '"key_id":"k1"' 23
run "$MCPAUTH" audit show "$LOG" --reason rate_limited --json
expect_count '"reason":"rate_limited"' 3
expect_count '{"seq":' 3
run "$MCPAUTH" audit show "$LOG" --since 2026-09-21T10:30:00Z --decision deny --json
expect_count '{"seq":' 4
run "$MCPAUTH" audit show "$LOG" --event policy.loaded --json
expect_count '{"seq":' 3

# usage errors
run "$MCPAUTH" audit
expect_rc 2
run "$MCPAUTH" audit show
expect_rc 2
run "$MCPAUTH" audit show "$LOG" --decision maybe
expect_rc 2
run "$MCPAUTH" audit show "$LOG" --reason bogus
expect_rc 2
run "$MCPAUTH" audit show "$LOG" --since yesterday
expect_rc 2
run "$MCPAUTH" audit verify "$T/nothing.log"
expect_rc 2
expect_out "no such audit log"
run "$MCPAUTH" audit frobnicate "$LOG"
expect_rc 2

# a cut tail verifies alone, but not against the hash kept elsewhere
cp "$LOG" "$T/saved"
sed -i '$d' "$LOG"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 0
run "$MCPAUTH" audit verify "$LOG" --anchor "$KEPT"
expect_rc 1
expect_out "truncated"
cp "$T/saved" "$LOG"
run "$MCPAUTH" audit verify "$LOG" --anchor "$KEPT"
expect_rc 0

# an edited record: file and line of the first record that does not verify
N=$(wc -l < "$LOG")
sed -i '$s/"allowed":false/"allowed":true/' "$LOG"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 1
expect_out "FAILED: $LOG:$N: the hash does not match the record: it was edited"
cp "$T/saved" "$LOG"

# two records swapped (in the newest rotated file: the live one holds the
# last record alone): the first one out of place is named
cp "$LOG.1" "$T/saved.1"
sed -i '4{h;d};5G' "$LOG.1"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 1
expect_out "FAILED: $LOG.1:4: out of sequence: a record was removed, inserted or moved"
cp "$T/saved.1" "$LOG.1"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 0

# a record deleted from the middle of a file: the one after the gap is named
sed -i '3d' "$LOG.1"
run "$MCPAUTH" audit verify "$LOG"
expect_rc 1
expect_out "FAILED: $LOG.1:3: out of sequence: a record was removed, inserted or moved"

# --- a tool name that tries to end its string and add a field -------------
# A quote, a newline and a byte that is not UTF-8: the record stays one line,
# the chain verifies, and the text stays inside "tool", escaped.
policy forge.yaml deny forbidden k2 forge/audit.log
FLOG="$T/forge/audit.log"
run "$MCPAUTH" check --policy "$T/forge.yaml" --tool $'x","allowed":true\n\xff' \
    --now 2026-09-21T13:00:00Z
expect_rc 1
[ "$(wc -l < "$FLOG")" -eq 2 ] || fail "policy.loaded and one decision are not 2 lines:
$(cat "$FLOG")"
run "$MCPAUTH" audit verify "$FLOG"
expect_rc 0
expect_out "ok: 2 records in 1 file"
run "$MCPAUTH" audit show "$FLOG" --event decision --json
expect_rc 0
expect_count '{"seq":' 1
expect_out '"allowed":false,"reason":"forbidden"'
expect_out '"tool":"x\",\"allowed\":true\n\ufffd","resource":null'
[ "$(grep -o '"allowed":' <<<"$_out" | wc -l)" -eq 1 ] || fail "a second allowed field: $_out"
run "$MCPAUTH" audit show "$FLOG" --decision allow --json
expect_rc 0
expect_no_out '{"seq":'
run "$MCPAUTH" audit show "$FLOG" --decision deny
expect_count 'deny  forbidden' 1
expect_out 'tools/call x","allowed":true?'

# --- key events while a policy is open ------------------------------------
# `mcpauth check --requests FIFO` keeps the policy (and the apikey plugin's
# store watcher) open while `mcpauth key` changes the store; the watcher's
# events reach audit-file. fd 3 holds the FIFO open for writing, so the
# check reads until it is closed. The watcher runs in its own thread, so
# wait_audit follows the log (fd 4, a tail that polls every 50 ms while the
# log does not exist yet) until the record is there; fsync: always writes
# each record at once instead of on the writer thread's next round.
D="$T/live"
mkdir -m 700 "$D"
unset MCPAUTH_STORE
json_field() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" <<<"$_out" | head -n1; }
run "$MCPAUTH" key create --role monitor --store "$D/keys.yaml" --name first --json
expect_rc 0
ID1=$(json_field id)
cat > "$D/policy.yaml" <<YAML
version: 1
stack:
  - plugin: apikey
    control: required
    config: { store: keys.yaml }
  - plugin: audit-file
    control: optional
    config: { path: logs/audit.log, fsync: always }
YAML
KLOG="$D/logs/audit.log"
mkfifo "$D/in"
# (bounded: a check that never ends after its input closes fails the test)
timeout 60 "$MCPAUTH" check --policy "$D/policy.yaml" --requests "$D/in" > "$D/out" 2>&1 &
CHK=$!
exec 3<> "$D/in"
exec 4< <(exec tail -s 0.05 -n +1 -F "$KLOG" 2>/dev/null 3>&-)
TAIL=$!
# wait_audit TEXT: read the log until a record holds TEXT (at most 20 s).
wait_audit() {
    _checks=$((_checks + 1))
    local line end=$((SECONDS + 20))
    while [ "$SECONDS" -lt "$end" ] && IFS= read -r -t $((end - SECONDS)) line <&4; do
        case "$line" in *"$1"*) return 0 ;; esac
    done
    fail "the audit log never showed '$1':"$'\n'"$(cat "$KLOG" 2>&1)"
    return 1
}
request() { printf '{"key":"%s","tool":"read"}\n' "$1" >&3; }

wait_audit '"event":"policy.loaded"' || { cat "$D/out" >&2; finish; exit 1; }
run "$MCPAUTH" key create --store "$D/keys.yaml" --name ci --role deployer --json
expect_rc 0
ID2=$(json_field id)
K2=$(json_field key)
wait_audit '"event":"key.created","key_id":"'"$ID2"'"'
request "$K2"
wait_audit '"event":"decision","allowed":true'
run "$MCPAUTH" key revoke --store "$D/keys.yaml" "$ID2"
expect_rc 0
wait_audit '"event":"key.revoked","key_id":"'"$ID2"'"'
request "$K2"
wait_audit '"reason":"revoked"'
# A record removed by hand: a copy without it, mode 0600, renamed over the
# store as an editor would.
awk -v rec="  - id: \"$ID1\"" '$0 == rec { skip = 1; next } /^  - id: / { skip = 0 } !skip' \
    "$D/keys.yaml" > "$D/keys.new"
chmod 600 "$D/keys.new"
mv "$D/keys.new" "$D/keys.yaml"
wait_audit '"event":"key.deleted","key_id":"'"$ID1"'"'
exec 3>&-
wait "$CHK"
_rc=$? _last="check --requests FIFO" _out=$(cat "$D/out")
CHK=''
expect_rc 1
expect_count '"allowed":true' 1
expect_count '"reason":"revoked"' 1
kill "$TAIL" 2>/dev/null
exec 4<&-
TAIL=''

run "$MCPAUTH" audit show "$KLOG" --event key.created
expect_rc 0
expect_count "key.created" 1
expect_out "$(printf '  %-22s%s' key.created "$ID2")"
run "$MCPAUTH" audit show "$KLOG" --event key.created --json
expect_count '{"seq":' 1
expect_out '"event":"key.created","key_id":"'"$ID2"'","key_name":"ci","role":"deployer"'
run "$MCPAUTH" audit show "$KLOG" --event key.revoked --json
expect_rc 0
expect_count '{"seq":' 1
expect_out '"event":"key.revoked","key_id":"'"$ID2"'","key_name":"ci","role":"deployer"'
run "$MCPAUTH" audit show "$KLOG" --event key.deleted --json
expect_count '{"seq":' 1
expect_out '"key_id":"'"$ID1"'","key_name":"first","role":"monitor","detail":"removed from the store file"'
run "$MCPAUTH" audit verify "$KLOG"
expect_rc 0
expect_out "ok: 6 records in 1 file"
grep -qF -- "${K2#mcp_live_}" "$KLOG" && fail "the audit log holds the key's text"

finish
