# Sourced by the benchmark scripts: start_collector BIN_DIR WORK_DIR [COLLECTOR FLAGS...] starts
# octolaunch-collector on loopback ports chosen by the kernel, with its store in WORK_DIR/c, and
# sets $collector (pid), $rpc and $http (host:port). Fails after 30 s if it does not come up.
# COLLECTOR_CONFIG: a config file to start it with (default none).
start_collector() {
  "$1/octolaunch-collector" --config "${COLLECTOR_CONFIG:-/dev/null}" --data-dir "$2/c" --rpc-listen 127.0.0.1:0 \
    --http-listen 127.0.0.1:0 "${@:3}" >"$2/c.out" 2>"$2/c.log" &
  collector=$!
  local tries=0
  until grep -q '^http listening' "$2/c.out" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ] || ! kill -0 "$collector" 2>/dev/null; then
      echo "the collector did not start; its log:" >&2
      cat "$2/c.log" >&2
      return 1
    fi
    sleep 0.05
  done
  rpc=$(sed -n 's/^rpc listening on //p' "$2/c.out")
  http=$(sed -n 's/^http listening on //p' "$2/c.out")
}
