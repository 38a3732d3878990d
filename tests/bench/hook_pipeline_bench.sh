#!/usr/bin/env bash
# Benchmark (prints figures; not a test): a command printing N lines of ~100 bytes into a pipe
# read by `cat >/dev/null`, run bare and under `octolaunch-agent hook` with the daemon shipping to a
# real collector. Reports wall time of each, the wrapper's overhead, and the time from the
# command's end until every line is stored at the collector.
#
#   tests/bench/hook_pipeline_bench.sh [BIN_DIR] [LINES]
set -euo pipefail
bin=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
lines=${2:-1000000}
work=$(mktemp -d /tmp/octolaunch-bench.XXXXXX)
agent="" collector=""
trap 'kill $agent $collector 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

gen="awk 'BEGIN { for (i = 1; i <= $lines; i++) printf \"%08d the quick brown fox jumps over the lazy dog, deploy step output line with some padding\\n\", i }'"

now() { date +%s.%N; }

source "$(dirname "$0")/start_collector.sh"
token="bench-$$-$RANDOM"
start_collector "$bin" "$work" --agent-token "$token"
flags=(--config /dev/null --spool-dir "$work/spool" --collector "$rpc" --token "$token" --agent-id bench --host bench)
"$bin/octolaunch-agent" run "${flags[@]}" 2>"$work/a.log" &
agent=$!

best_bare=999999
for _ in 1 2 3; do
  t0=$(now); sh -c "$gen" | cat >/dev/null; t1=$(now)
  best_bare=$(echo "$t1 - $t0" | bc -l | awk -v b="$best_bare" '{ print ($1 < b) ? $1 : b }')
done

t0=$(now)
"$bin/octolaunch-agent" hook "${flags[@]}" --release bench --service api -- sh -c "$gen" | cat >/dev/null
t1=$(now)
wrapped=$(echo "$t1 - $t0" | bc -l)
# Wait until the collector has every line (hook.output) and the exit.
want=$((lines + 1))
deadline=$(( $(date +%s) + 600 ))
while :; do
  stored=$(curl -s "http://$http/api/v1/hosts" | sed -n 's/.*"events_stored":\([0-9]*\).*/\1/p')
  [ "${stored:-0}" -ge "$want" ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "hook_pipeline_bench: ${stored:-0} of $want events stored after 600 s; the agent's log:" >&2
    tail -n 5 "$work/a.log" >&2
    exit 1
  fi
  sleep 0.02
done
t2=$(now)
printf 'lines: %d\n' "$lines"
printf 'bare (best of 3):          %.3f s\n' "$best_bare"
printf 'under hook (daemon on):    %.3f s  (overhead %.1f %%)\n' "$wrapped" "$(echo "($wrapped - $best_bare) * 100 / $best_bare" | bc -l)"
printf 'command end -> all stored: %.3f s\n' "$(echo "$t2 - $t1" | bc -l)"
printf 'collector store size:      %s\n' "$(du -sh "$work/c" | cut -f1)"
