#!/bin/bash
# Every bundled plugin exports exactly one symbol: its entry point.
set -u
. "$(dirname "$0")/lib.sh"
D="$MCPAUTH_BUILD_DIR/lib/mcpauth"
for p in apikey role ipwhitelist ratelimit audit-file audit-syslog; do
    so="$D/mcpauth_$p.so"
    _checks=$((_checks + 1))
    [ -f "$so" ] || { fail "missing $so"; continue; }
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | tr '\n' ' ')
    _checks=$((_checks + 1))
    [ "$syms" = "mcpauth_plugin_entry " ] || fail "$p exports: $syms"
done
finish
