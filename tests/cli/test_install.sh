#!/bin/bash
# `make install` as a user would use it: install into a prefix, then build
# an application against it with pkg-config and with find_package(mcpauth).
set -u
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run cmake --install "$MCPAUTH_BUILD_DIR" --prefix "$T/prefix"
expect_rc 0
for f in include/mcpauth/mcpauth.h include/mcpauth/plugin.h include/mcpauth/common.h \
         lib/libmcpauth.a bin/mcpauth lib/pkgconfig/mcpauth.pc lib/cmake/mcpauth/mcpauthConfig.cmake; do
    _checks=$((_checks + 1))
    [ -e "$T/prefix/$f" ] || fail "not installed: $f"
done

cat > "$T/app.c" <<'C'
#include <mcpauth/mcpauth.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    mcpauth *a; mcpauth_error err;
    if (argc < 2 || mcpauth_open(&a, argv[1], &err) != MCPAUTH_OK) {
        fprintf(stderr, "%s\n", argc < 2 ? "usage" : err.message);
        return 2;
    }
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    mcpauth_check(a, &req, &d);
    printf("%s %s %d\n", d.allowed ? "allow" : "deny", mcpauth_reason_name(d.reason), d.http_status);
    mcpauth_close(a);
    return d.allowed ? 0 : 1;
}
C
cat > "$T/policy.yaml" <<YAML
version: 1
stack:
  - plugin: $MCPAUTH_BUILD_DIR/tests/plugins/mcpauth_script.so
    control: required
    config: { vote: deny, reason: revoked }
YAML
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
run sh -c "cc -std=c11 -Wall -Werror -o '$T/app' '$T/app.c' \$(pkg-config --cflags --libs mcpauth)"
expect_rc 0
run env LD_LIBRARY_PATH="$T/prefix/lib" "$T/app" "$T/policy.yaml"
expect_rc 1
expect_out "deny revoked 401"

mkdir -p "$T/cm"
cp "$T/app.c" "$T/cm/app.c"
cat > "$T/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(app C)
find_package(mcpauth REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE mcpauth::mcpauth)
CM
run cmake -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$T/prefix"
expect_rc 0
run cmake --build "$T/cm/build"
expect_rc 0
run "$T/cm/build/app" "$T/policy.yaml"
expect_rc 1
expect_out "deny revoked 401"
finish
