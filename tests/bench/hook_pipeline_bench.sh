#!/usr/bin/env bash
# Benchmark (prints figures; not a test): a command printing N lines of ~100 bytes into a pipe
# read by `cat >/dev/null`, run bare and under `octolaunch-agent hook` with the daemon shipping to a
# real collector, in R interleaved rounds (bare, then wrapped; each after a `sync`, so that no
# round pays for the last one's writeback). Reports the median wall time of each with its spread
# ((max - min) / median), the wrapper's overhead as the median of the rounds' own ratios (wrapped
# against the bare run just before it: this VM's speed drifts between rounds), and the median
# time from the command's end until every line is stored at the collector. Every round's figures
# are printed too.
#
# The daemon runs as its unit runs it (packaging/systemd/octolaunch-agent.service: Nice=,
# CPUQuota=) where this process may make a cpu cgroup (root, cgroup v1 or v2); elsewhere it runs
# unlimited, and the "daemon:" line says so.
#
#   tests/bench/hook_pipeline_bench.sh [BIN_DIR] [LINES] [ROUNDS]
set -euo pipefail
bin=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
lines=${2:-1000000}
rounds=${3:-1}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "hook_pipeline_bench: ROUNDS must be a positive number" >&2; exit 2; }
work=$(mktemp -d /tmp/octolaunch-bench.XXXXXX)
agent="" collector="" cgroup=""
trap 'kill $agent $collector 2>/dev/null; wait 2>/dev/null; [ -z "$cgroup" ] || rmdir "$cgroup" 2>/dev/null; rm -rf "$work"' EXIT

gen="awk 'BEGIN { for (i = 1; i <= $lines; i++) printf \"%08d the quick brown fox jumps over the lazy dog, deploy step output line with some padding\\n\", i }'"

now() { date +%s.%N; }

source "$(dirname "$0")/start_collector.sh"
token="bench-$$-$RANDOM"
start_collector "$bin" "$work" --agent-token "$token"
flags=(--config /dev/null --spool-dir "$work/spool" --collector "$rpc" --token "$token" --agent-id bench --host bench)

# The unit's limits for the daemon, and a cpu cgroup that holds it to its CPUQuota.
unit="$(dirname "$0")/../../packaging/systemd/octolaunch-agent.service"
nice_level=$(sed -n 's/^Nice=\(-\{0,1\}[0-9]*\)$/\1/p' "$unit" 2>/dev/null | tail -n 1)
quota_pct=$(sed -n 's/^CPUQuota=\([0-9]*\)%$/\1/p' "$unit" 2>/dev/null | tail -n 1)
limits="unlimited (no Nice=/CPUQuota= in $unit)"
if [ -n "$quota_pct" ]; then
  limits="unlimited (a cpu cgroup for CPUQuota=$quota_pct% needs root and the cpu controller)"
  if [ -d /sys/fs/cgroup/cpu ] && mkdir "/sys/fs/cgroup/cpu/octolaunch-bench-$$" 2>/dev/null; then
    cgroup=/sys/fs/cgroup/cpu/octolaunch-bench-$$
    { echo 100000 >"$cgroup/cpu.cfs_period_us" && echo $((quota_pct * 1000)) >"$cgroup/cpu.cfs_quota_us"; } ||
      { rmdir "$cgroup"; cgroup=""; }
  elif [ -f /sys/fs/cgroup/cgroup.controllers ] && mkdir "/sys/fs/cgroup/octolaunch-bench-$$" 2>/dev/null; then
    cgroup=/sys/fs/cgroup/octolaunch-bench-$$
    echo "$((quota_pct * 1000)) 100000" 2>/dev/null >"$cgroup/cpu.max" || { rmdir "$cgroup"; cgroup=""; }
  fi
  [ -z "$cgroup" ] || limits="as its unit runs it: Nice=${nice_level:-0}, CPUQuota=$quota_pct%"
fi
sh -c 'if [ -n "$1" ]; then echo $$ >"$1/cgroup.procs" || exit 1; fi; shift; exec nice -n "$@"' \
  daemon "$cgroup" "${nice_level:-0}" "$bin/octolaunch-agent" run "${flags[@]}" 2>"$work/a.log" &
agent=$!

# median_spread: "median spread_pct" of the numbers on stdin, one a line.
median_spread() {
  sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f %.1f\n", m, (m > 0) ? (v[NR] - v[1]) * 100 / m : 0 }'
}
want=0
for ((r = 1; r <= rounds; r++)); do
  sync; t0=$(now); sh -c "$gen" | cat >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$work/bare"
  sync; t0=$(now)
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
  echo "($(tail -1 "$work/wrapped")) * 100 / ($(tail -1 "$work/bare")) - 100" | bc -l >>"$work/overhead"
  printf 'round %d: bare %.3f s, under hook %.3f s, command end -> stored %.3f s\n' "$r" \
    "$(tail -1 "$work/bare")" "$(tail -1 "$work/wrapped")" "$(tail -1 "$work/stored")"
done
read -r bare bare_spread < <(median_spread <"$work/bare")
read -r wrapped wrapped_spread < <(median_spread <"$work/wrapped")
read -r stored_s stored_spread < <(median_spread <"$work/stored")
read -r overhead _ < <(median_spread <"$work/overhead")
printf 'lines: %d, rounds: %d\n' "$lines" "$rounds"
printf 'daemon: %s\n' "$limits"
printf 'bare (median):             %.3f s  (spread %.1f %%)\n' "$bare" "$bare_spread"
printf 'under hook (daemon on):    %.3f s  (spread %.1f %%)  (overhead %.1f %%)\n' "$wrapped" \
  "$wrapped_spread" "$overhead"
printf 'command end -> all stored: %.3f s  (spread %.1f %%)\n' "$stored_s" "$stored_spread"
printf 'collector store size:      %s\n' "$(du -sh "$work/c" | cut -f1)"
