#!/usr/bin/env bash
# Benchmark (prints figures; not a test): a command printing N lines of ~100 bytes into a pipe
# read by `cat >/dev/null`, run bare and under `octolaunch-agent hook` with the daemon shipping to a
# real collector, in R interleaved rounds (bare, then wrapped). Reports the median wall time of
# each with its spread ((max - min) / median), the wrapper's overhead (median wrapped against
# median bare), and the median time from the command's end until every line is stored at the
# collector. Every round's figures are printed too.
#
#   tests/bench/hook_pipeline_bench.sh [BIN_DIR] [LINES] [ROUNDS]
set -euo pipefail
bin=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
lines=${2:-1000000}
rounds=${3:-1}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "hook_pipeline_bench: ROUNDS must be a positive number" >&2; exit 2; }
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

# median_spread: "median spread_pct" of the numbers on stdin, one a line.
median_spread() {
  sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f %.1f\n", m, (m > 0) ? (v[NR] - v[1]) * 100 / m : 0 }'
}
want=0
for ((r = 1; r <= rounds; r++)); do
  t0=$(now); sh -c "$gen" | cat >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$work/bare"
  t0=$(now)
  "$bin/octolaunch-agent" hook "${flags[@]}" --release "bench-$r" --service api -- sh -c "$gen" | cat >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$work/wrapped"
  # Wait until the collector has every line (hook.output) and the exit of this round.
  want=$((want + lines + 1))
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
  echo "$t2 - $t1" | bc -l >>"$work/stored"
  printf 'round %d: bare %.3f s, under hook %.3f s, command end -> stored %.3f s\n' "$r" \
    "$(tail -1 "$work/bare")" "$(tail -1 "$work/wrapped")" "$(tail -1 "$work/stored")"
done
read -r bare bare_spread < <(median_spread <"$work/bare")
read -r wrapped wrapped_spread < <(median_spread <"$work/wrapped")
read -r stored_s stored_spread < <(median_spread <"$work/stored")
printf 'lines: %d, rounds: %d\n' "$lines" "$rounds"
printf 'bare (median):             %.3f s  (spread %.1f %%)\n' "$bare" "$bare_spread"
printf 'under hook (daemon on):    %.3f s  (spread %.1f %%)  (overhead %.1f %%)\n' "$wrapped" \
  "$wrapped_spread" "$(echo "($wrapped - $bare) * 100 / $bare" | bc -l)"
printf 'command end -> all stored: %.3f s  (spread %.1f %%)\n' "$stored_s" "$stored_spread"
printf 'collector store size:      %s\n' "$(du -sh "$work/c" | cut -f1)"
