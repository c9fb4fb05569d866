#!/bin/bash
# test_business_hours.sh: the custom plugin example as a user builds it:
# mcpauth installed into a prefix, examples/plugins/business-hours copied
# out and built there with pkg-config (Makefile) and with find_package
# (CMakeLists.txt), then dropped into a stack by path and run with
# `mcpauth check --now` inside and outside business hours.
set -u
. "$(dirname "$0")/lib.sh"
src=${MCPAUTH_SOURCE_DIR:?}

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run cmake --install "$MCPAUTH_BUILD_DIR" --prefix "$T/prefix"
expect_rc 0
P=$T/prefix
export PKG_CONFIG_PATH=$P/lib/pkgconfig LD_LIBRARY_PATH=$P/lib
mcpauth=$P/bin/mcpauth

cp -r "$src/examples/plugins/business-hours" "$T/bh"
rm -f "$T/bh/mcpauth_business-hours.so"
run make -C "$T/bh"
expect_rc 0
_checks=$((_checks + 1))
[ -f "$T/bh/mcpauth_business-hours.so" ] || fail "make did not build the plugin: $_out"
# One exported symbol, everything else hidden.
run bash -c "nm -D --defined-only '$T/bh/mcpauth_business-hours.so' | awk '{print \$3}' | grep -v '^_'"
expect_line1 "mcpauth_plugin_entry"
expect_count "" 1

run cmake -S "$T/bh" -B "$T/bh-cmake" -DCMAKE_PREFIX_PATH="$P"
expect_rc 0
run cmake --build "$T/bh-cmake"
expect_rc 0
_checks=$((_checks + 1))
[ -f "$T/bh-cmake/mcpauth_business-hours.so" ] || fail "cmake did not build the plugin: $_out"

key=$("$mcpauth" key create --store "$T/bh/keys.yaml" --name ops --role admin --json |
      sed -n 's/^ *"key": "\(.*\)",$/\1/p')
run "$mcpauth" policy check "$T/bh/policy.yaml"
expect_rc 0
expect_out "business-hours"

# decide TOOL NOW: mcpauth check on the example policy at time NOW.
decide() {
    run "$mcpauth" check --policy "$T/bh/policy.yaml" --key "$key" --method tools/call \
        --tool "$1" --now "$2"
}
# Friday 27 November 2026, local time UTC+01:00; Monday to Friday 08:00-18:00.
decide set_light 2026-11-27T10:00:00+01:00;  expect_rc 0; expect_line1 "allow"
decide set_light 2026-11-27T08:00:00+01:00;  expect_rc 0; expect_line1 "allow"
decide set_light 2026-11-27T07:59:59+01:00;  expect_rc 1; expect_line1 "deny forbidden"
decide set_light 2026-11-27T18:00:00+01:00;  expect_rc 1; expect_line1 "deny forbidden"
expect_out "plugin: business-hours"
expect_out "business hours (08:00-18:00, UTC+01:00)"
decide set_blinds 2026-11-27T19:30:00+01:00; expect_rc 1; expect_line1 "deny forbidden"
# The same instant written in UTC is the same local time.
decide set_light 2026-11-27T09:30:00Z;       expect_rc 0; expect_line1 "allow"
decide set_light 2026-11-27T17:30:00Z;       expect_rc 1; expect_line1 "deny forbidden"
# Saturday: closed all day.
decide set_light 2026-11-28T10:00:00+01:00;  expect_rc 1; expect_line1 "deny forbidden"
# Read tools are none of its business: the role decides.
decide get_status 2026-11-27T23:00:00+01:00; expect_rc 0; expect_line1 "allow"
decide get_status 2026-11-28T10:00:00+01:00; expect_rc 0; expect_line1 "allow"

# A window over midnight belongs to the day it opens: Friday 22:00 to
# Saturday 06:00 is open, Saturday 22:00 is not.
sed -e 's/open: "08:00"/open: "22:00"/' -e 's/close: "18:00"/close: "06:00"/' \
    "$T/bh/policy.yaml" > "$T/bh/night.yaml"
night() {
    run "$mcpauth" check --policy "$T/bh/night.yaml" --key "$key" --method tools/call \
        --tool set_light --now "$1"
}
night 2026-11-27T23:00:00+01:00; expect_rc 0
night 2026-11-28T05:59:00+01:00; expect_rc 0
night 2026-11-28T06:00:00+01:00; expect_rc 1
night 2026-11-28T22:00:00+01:00; expect_rc 1

# Bad settings are refused at load with the file, line and column.
sed 's/close: "18:00"/close: "25:00"/' "$T/bh/policy.yaml" > "$T/bh/bad.yaml"
run "$mcpauth" policy check "$T/bh/bad.yaml"
expect_rc 2
expect_out "bad.yaml:"
expect_out "'25:00' is not a time"
sed 's/days: \[mon/days: [monday/' "$T/bh/policy.yaml" > "$T/bh/bad2.yaml"
run "$mcpauth" policy check "$T/bh/bad2.yaml"
expect_rc 2
expect_out "'monday' is not one of"
sed 's/write_tools:/write_tool:/' "$T/bh/policy.yaml" > "$T/bh/bad3.yaml"
run "$mcpauth" policy check "$T/bh/bad3.yaml"
expect_rc 2
expect_out "write_tool"
finish
