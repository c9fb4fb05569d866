#!/bin/bash
# mcpauth key: create, list, use through `mcpauth check`, revoke, rotate with
# a grace period, update; bad input refused with exit 2 and nothing written.
set -u
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 700 "$T"
S="$T/state/keys.yaml"
P="$T/policy.yaml"
cat > "$P" <<YAML
version: 1
stack:
  - plugin: apikey
    control: required
    config: { store: state/keys.yaml, accept_types: [live] }
YAML
unset MCPAUTH_STORE
json_field() { sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" <<<"$_out" | head -n1; }
sum() { cksum < "$S"; }

# --- create: the key once, a 0600 store in a 0700 directory ---------------
run "$MCPAUTH" key create --store "$S" --name ci --role reader --json
expect_rc 0
K=$(json_field key)
ID=$(json_field id)
case "$K" in mcp_live_"$ID"*) ;; *) fail "key '$K' does not carry id '$ID'" ;; esac
[ "$(stat -c %a "$S")" = 600 ] || fail "store mode $(stat -c %a "$S")"
[ "$(stat -c %a "$T/state")" = 700 ] || fail "store dir mode $(stat -c %a "$T/state")"
grep -q -- "${K#mcp_live_}" "$S" && fail "the store holds the key's text"
run "$MCPAUTH" key create --role monitor --store "$S" --name plain
expect_rc 0
expect_out "Store this key now"
expect_line1 "key         $(sed -n 's/^key *//p' <<<"$_out")"

# --- list, show ------------------------------------------------------------
run "$MCPAUTH" key list --store "$S"
expect_rc 0
expect_out "$ID"
expect_out "ci"
expect_no_out "$K"
MCPAUTH_STORE="$S" run "$MCPAUTH" key list --json
expect_rc 0
expect_line1 "["
expect_count '"id":' 2
run "$MCPAUTH" key show "$ID" --store "$S"
expect_rc 0
expect_out "role        reader"

# --- the key works through the policy, and wrong ones do not ----------------
run "$MCPAUTH" check --policy "$P" --key "$K"
expect_rc 0
expect_line1 "allow"
run "$MCPAUTH" check --policy "$P" --key "${K%?}"
expect_rc 1
expect_line1 "deny bad_credentials"
run "$MCPAUTH" check --policy "$P"
expect_rc 1
expect_line1 "deny no_credentials"
run "$MCPAUTH" key create --role monitor --store "$S" --name tester --type test --json
TK=$(json_field key)
run "$MCPAUTH" check --policy "$P" --key "$TK"
expect_rc 1
expect_line1 "deny bad_credentials"

# --- revoke -----------------------------------------------------------------
run "$MCPAUTH" key revoke "$ID" --store "$S"
expect_rc 0
expect_out "revoked $ID"
run "$MCPAUTH" check --policy "$P" --key "$K"
expect_rc 1
expect_line1 "deny revoked"
run "$MCPAUTH" key list --store "$S"
expect_no_out "$ID"
run "$MCPAUTH" key list --store "$S" --all
expect_out "$ID"
expect_out "revoked"

# --- expiry and the 7-day warning -------------------------------------------
run "$MCPAUTH" key create --role monitor --store "$S" --name soon --expires 3d --now 2027-01-01T00:00:00Z --json
SK=$(json_field key)
SID=$(json_field id)
expect_out '"expires": "2027-01-04T00:00:00.000Z"'
run "$MCPAUTH" key list --store "$S" --now 2027-01-01T00:00:00Z
expect_out "expiring (within 7 days"
run "$MCPAUTH" check --policy "$P" --key "$SK" --now 2027-01-03T23:59:59Z
expect_line1 "allow"
run "$MCPAUTH" check --policy "$P" --key "$SK" --now 2027-01-04T00:00:00Z
expect_rc 1
expect_line1 "deny expired"
run "$MCPAUTH" key update "$SID" --store "$S" --expires never
expect_rc 0
run "$MCPAUTH" check --policy "$P" --key "$SK" --now 2030-01-01T00:00:00Z
expect_line1 "allow"

# --- rotate with a grace period: old key inside it, not after ---------------
run "$MCPAUTH" key create --role monitor --store "$S" --name svc --json
OLD=$(json_field key)
RID=$(json_field id)
run "$MCPAUTH" key rotate "$RID" --store "$S" --grace 24h --now 2027-02-01T00:00:00Z --json
expect_rc 0
expect_out '"grace_until": "2027-02-02T00:00:00.000Z"'
NEW=$(json_field key)
[ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || fail "rotate printed no new key"
run "$MCPAUTH" check --policy "$P" --key "$OLD" --now 2027-02-01T12:00:00Z
expect_line1 "allow"
run "$MCPAUTH" check --policy "$P" --key "$OLD" --now 2027-02-02T00:00:01Z
expect_rc 1
expect_line1 "deny bad_credentials"
run "$MCPAUTH" check --policy "$P" --key "$NEW" --now 2027-02-02T00:00:01Z
expect_line1 "allow"

# --- update lists -------------------------------------------------------------
run "$MCPAUTH" key update "$RID" --store "$S" --ip 192.0.2.0/24 --ip 2001:db8::/32 --tool 'get_*'
expect_rc 0
expect_out "allowed ips 192.0.2.0/24, 2001:db8::/32"
run "$MCPAUTH" key update "$RID" --store "$S" --clear-ips --ip 198.51.100.7
expect_out "allowed ips 198.51.100.7"
expect_out "tools       get_*"

# --- bad input: one line, exit 2, nothing written -----------------------------
before=$(sum)
for args in "revoke NOPENOPENOPE" "rotate NOPENOPENOPE" "update NOPENOPENOPE --name x" \
            "show NOPENOPENOPE" "create --name x --role monitor --expires 10y" \
            "create --name x --role monitor --ip 10.0.0.0/33" "create --name x --role monitor --ip example.com" \
            "rotate $RID --grace soon" "update $RID --ip 1.2.3" \
            "create --name x --role monitor --colour red" "list --grace 1h" "create --role x" \
            "create --name x --role monitor --type prod" "frobnicate" "create --name norole" \
            "create --name x --role monitor --expires 2020-01-01T00:00:00Z" \
            "update $RID --expires 2020-01-01T00:00:00Z" \
            "create --name x --role monitor --prefix LMK" "create --name x --role monitor --prefix lmk" \
            "update $RID --prefix mcp"; do
    # shellcheck disable=SC2086
    run "$MCPAUTH" key $args --store "$S"
    expect_rc 2
    [ "$(printf '%s\n' "$_out" | wc -l)" -eq 1 ] || fail "not one line: key $args"$'\n'"$_out"
    expect_out "mcpauth: "
done
[ "$(sum)" = "$before" ] || fail "a refused command changed the store"
run "$MCPAUTH" key create --name norole --store "$S"
expect_rc 2
expect_out "key create: --role is required"

# --- an unsafe or corrupt store is refused, never rewritten -----------------
chmod 644 "$S"
run "$MCPAUTH" key list --store "$S"
expect_rc 2
expect_out "$S: permissions 0644 are too open"
run "$MCPAUTH" check --policy "$P" --key "$NEW"
expect_rc 2
chmod 600 "$S"
cp "$S" "$T/good.yaml"
printf 'version: 1\nkeys:\n  - id: "unterminated\n' > "$S"
before=$(sum)
run "$MCPAUTH" key create --role monitor --store "$S" --name x
expect_rc 2
expect_out "$S:4:1:"
[ "$(sum)" = "$before" ] || fail "a corrupt store was overwritten"
cp "$T/good.yaml" "$S"

# --- two writers at once both land ---------------------------------------------
n0=$("$MCPAUTH" key list --store "$S" --all --json | grep -c '"id":')
for w in a b; do
    ( for i in 1 2 3 4 5 6; do
        "$MCPAUTH" key create --role monitor --store "$S" --name "$w$i" >/dev/null 2>&1 || echo "fail $w$i"
      done ) > "$T/writer-$w" &
done
wait
[ -s "$T/writer-a" ] || [ -s "$T/writer-b" ] && fail "a concurrent create failed"
n1=$("$MCPAUTH" key list --store "$S" --all --json | grep -c '"id":')
[ "$n1" -eq $((n0 + 12)) ] || fail "concurrent creates: $n0 -> $n1 keys, expected +12"

# The store accepts exactly the per-key entries the ipwhitelist plugin
# matches: a prefix with a leading zero would silently match nothing.
run "$MCPAUTH" key create --store "$S" --name lz --role admin --ip 127.0.0.0/08
expect_rc 2
expect_out "'127.0.0.0/08' is not an IP address or CIDR"

# A time at or before the epoch in a hand-edited store would read as "not
# set": a revocation would vanish. Such a store is refused with its line.
cp "$S" "$T/epoch.yaml"
sed -i '0,/    created:/s//    revoked: "1970-01-01T00:00:00Z"\n    created:/' "$T/epoch.yaml"
run "$MCPAUTH" key list --store "$T/epoch.yaml"
expect_rc 2
expect_out "epoch.yaml:"
expect_out "a time must be after 1970-01-01T00:00:00Z"

# --- --expires at or before now: refused, not an already-expired key ----------
before=$(sum)
run "$MCPAUTH" key create --role monitor --store "$S" --name late --expires 2027-01-01T00:00:00Z \
    --now 2027-01-01T00:00:00Z
expect_rc 2
expect_out "mcpauth: --expires: 2027-01-01T00:00:00Z is not in the future (now is 2027-01-01T00:00:00.000Z)"
run "$MCPAUTH" key update "$RID" --store "$S" --expires 2026-12-31T23:59:59Z \
    --now 2027-01-01T00:00:00Z
expect_rc 2
expect_out "is not in the future"
[ "$(sum)" = "$before" ] || fail "a past --expires changed the store"
run "$MCPAUTH" key create --role monitor --store "$S" --name later --expires 2027-01-01T00:00:01Z \
    --now 2027-01-01T00:00:00Z --json
expect_rc 0
expect_out '"expires": "2027-01-01T00:00:01.000Z"'

# --- lists longer than 64 are kept whole, by create and by update -------------
ips=(); for i in $(seq 1 70); do ips+=(--ip "10.0.$i.0/24"); done
run "$MCPAUTH" key create --role monitor --store "$S" --name many "${ips[@]}" --json
expect_rc 0
MID=$(json_field id)
run "$MCPAUTH" key show "$MID" --store "$S" --json
expect_count '"10.0.' 70
run "$MCPAUTH" key update "$MID" --store "$S" --ip 192.0.2.1
expect_rc 0
run "$MCPAUTH" key show "$MID" --store "$S" --json
expect_count '"10.0.' 70
expect_out '"10.0.1.0/24"'
expect_out '"10.0.70.0/24"'
expect_out '"192.0.2.1"'
# exactly 64, then one more: the 65th used to be dropped with exit 0
tools=(); for i in $(seq 1 64); do tools+=(--tool "t$i"); done
run "$MCPAUTH" key create --role monitor --store "$S" --name full "${tools[@]}" --json
FID=$(json_field id)
run "$MCPAUTH" key update "$FID" --store "$S" --tool extra
expect_rc 0
expect_out ", extra"
run "$MCPAUTH" key show "$FID" --store "$S" --json
expect_count '    "t' 64
expect_out '"extra"'

# --- a new store in a directory others may write is refused, nothing made ---
mkdir "$T/open"
chmod 777 "$T/open"
run "$MCPAUTH" key create --role monitor --store "$T/open/keys.yaml" --name x
expect_rc 2
expect_out "mcpauth: $T/open: permissions 0777 are too open"
[ -z "$(ls -A "$T/open")" ] || fail "a refused create left files: $(ls -A "$T/open")"
chmod 700 "$T/open"
run "$MCPAUTH" key create --role monitor --store "$T/open/keys.yaml" --name x
expect_rc 0
run "$MCPAUTH" key list --store "$T/open/keys.yaml"
expect_rc 0

# --- --prefix names a new store's prefix; an existing store keeps its own ---
L="$T/lmk/keys.yaml"
run "$MCPAUTH" key create --role monitor --store "$L" --name a --prefix 9lmk
expect_rc 2
expect_out "bad key prefix '9lmk'"
[ -e "$L" ] && fail "a bad --prefix created a store"
run "$MCPAUTH" key create --role monitor --store "$L" --name a --prefix lmk --json
expect_rc 0
LK=$(json_field key)
case "$LK" in lmk_live_*) ;; *) fail "key '$LK' lacks the prefix lmk" ;; esac
grep -qx 'prefix: "lmk"' "$L" || fail "the store does not record prefix lmk"
[ "$(stat -c %a "$L")" = 600 ] || fail "lmk store mode $(stat -c %a "$L")"
run "$MCPAUTH" key create --role monitor --store "$L" --name b --json
case "$(json_field key)" in lmk_live_*) ;; *) fail "a later create lost the prefix" ;; esac
run "$MCPAUTH" key create --role monitor --store "$L" --name c --prefix lmk
expect_rc 0
before=$(cksum < "$L")
run "$MCPAUTH" key create --role monitor --store "$L" --name d --prefix mcp
expect_rc 2
expect_out "mcpauth: --prefix: the store $L already exists with prefix 'lmk'"
[ "$(cksum < "$L")" = "$before" ] || fail "a refused --prefix changed the store"
cat > "$T/lmk.yaml" <<YAML
version: 1
stack:
  - plugin: apikey
    control: required
    config: { store: lmk/keys.yaml }
YAML
run "$MCPAUTH" check --policy "$T/lmk.yaml" --key "$LK"
expect_rc 0
expect_line1 "allow"

finish
