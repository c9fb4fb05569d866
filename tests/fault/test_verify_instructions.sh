#!/usr/bin/env bash
# test_verify_instructions.sh: the instructions mcpauth_store_verify runs,
# counted by callgrind on one store and one key (mcpauth_verify_timing -c):
# a secret wrong in its first character costs exactly what one wrong in its
# last costs, and an unknown id within 5% of a wrong secret (the lookup
# probes a different number of table slots for a different id: public
# information, the id is not secret). Instruction
# counts are deterministic, so they may be asserted; wall-clock times are
# only measured (docs/security.md). Parsing the presented text is left out:
# its cost follows the characters the caller sent (the checksum differs),
# never what the store holds.
set -u
VALGRIND=${1:?valgrind}
TIMING=${2:?timing program}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
(cd "$T" && "$VALGRIND" --tool=callgrind --collect-atstart=no --callgrind-out-file="$T/cg" \
    "$TIMING" -c -n 4100 -k 20 >/dev/null 2>&1) || { echo "FAIL: callgrind run failed"; exit 1; }

# cost NAME: instructions of scenario NAME minus those of parsing its text.
cost() {
    local f total parse
    f=$(grep -l "^desc: Trigger: Client Request: $1\$" "$T"/cg.*) || return 1
    total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$f")
    parse=$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
        sed -n 's/^ *\([0-9,]*\) .*:mcpauth__key_parse .*/\1/p' | head -n1 | tr -d ,)
    [ -n "$total" ] && [ -n "$parse" ] || return 1
    echo $((total - parse))
}
first=$(cost wrong_first) && last=$(cost wrong_last) && unknown=$(cost unknown_id) &&
    right=$(cost right_key) || { echo "FAIL: no instruction counts"; exit 1; }
echo "instructions for 4100 verifications: right_key=$right unknown_id=$unknown" \
    "wrong_first=$first wrong_last=$last"
fails=0
[ "$first" = "$last" ] || { echo "FAIL: where the secret is wrong changes the work"; fails=1; }
diff=$((unknown > first ? unknown - first : first - unknown))
[ $((diff * 20)) -le "$first" ] || { echo "FAIL: an unknown id costs >5% more or less"; fails=1; }
[ "$fails" -eq 0 ] && echo ok
exit "$fails"
