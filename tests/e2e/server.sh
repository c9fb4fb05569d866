# server.sh: start and stop mcp-demo-server from a shell test (sourced).
#
#   srv_start DIR BINARY ARGS...   start it on a free port of 127.0.0.1;
#                                  sets SRV_PID and SRV_URL; stderr goes to
#                                  DIR/server.log. Returns 1 if it never
#                                  announced its port.
#   srv_stop                       SIGTERM; sets SRV_RC to its exit status.
#
# The port is read from the server's "listening on" line through a FIFO, so
# nothing polls or sleeps: the read returns as soon as the server is up.

srv_start() {
    local dir=$1 binary=$2 line
    shift 2
    rm -f "$dir/server.out"
    mkfifo "$dir/server.out"
    "$binary" --listen 127.0.0.1:0 "$@" >"$dir/server.out" 2>"$dir/server.log" &
    SRV_PID=$!
    exec 9<"$dir/server.out"
    if ! read -r -t 30 line <&9; then
        echo "server did not start:" >&2
        cat "$dir/server.log" >&2
        return 1
    fi
    SRV_URL=$(printf '%s\n' "$line" | sed -n 's|.*listening on \(http://[^ ]*\) .*|\1|p')
    [ -n "$SRV_URL" ]
}

srv_stop() {
    kill -TERM "$SRV_PID" 2>/dev/null
    wait "$SRV_PID"
    SRV_RC=$?
    exec 9<&-
}
