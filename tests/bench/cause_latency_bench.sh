#!/usr/bin/env bash
# Benchmark (prints figures; not a test): time from a failing event to its cause appearing.
#
# A real collector and agent on loopback. For each run a release is registered (with a CI job
# URL), then `octolaunch-agent hook` runs a deploy step that prints a few lines and exits 3. The
# clock starts when the hook returns (the failure has happened and its hook.exit is in the spool)
# and stops when GET /api/v1/releases/R/causes lists the deploy-script cause, polled every 5 ms.
#
#   tests/bench/cause_latency_bench.sh [BIN_DIR] [RUNS]
# With CAUSE_BENCH_COLLECTOR="RPC_ADDR HTTP_ADDR TOKEN" it probes that running collector (e.g. one
# busy ingesting) instead of starting its own.
set -euo pipefail
bin=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
runs=${2:-20}
for b in octolaunch-agent octolaunch-collector octolaunch; do
  [ -x "$bin/$b" ] || { echo "cause_latency_bench: $bin/$b is missing (build it first)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "cause_latency_bench: curl not found" >&2; exit 1; }
work=$(mktemp -d /tmp/octolaunch-cause-latency.XXXXXX)
agent="" collector=""
trap 'kill $agent $collector 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

if [ -n "${CAUSE_BENCH_COLLECTOR:-}" ]; then
  read -r rpc http token <<<"$CAUSE_BENCH_COLLECTOR"
else
  source "$(dirname "$0")/start_collector.sh"
  token="bench-$$-$RANDOM"
  start_collector "$bin" "$work" --agent-token "$token"
fi
printf '[sources]\nenabled = false\n' >"$work/agent.toml"
flags=(--config "$work/agent.toml" --spool-dir "$work/spool" --collector "$rpc" --token "$token" --agent-id cause-probe --host web-1)
"$bin/octolaunch-agent" run "${flags[@]}" 2>"$work/a.log" &
agent=$!

ms() { echo $(( $(date +%s%N) / 1000000 )); }
results=()
for i in $(seq 1 "$runs"); do
  rel="lat-$i"
  "$bin/octolaunch" --url "http://$http" release create --id "$rel" --service api \
    --ci-job-url "https://ci.example/job/$i" >/dev/null
  "$bin/octolaunch-agent" hook "${flags[@]}" --release "$rel" --service api --phase migrate -- \
    sh -c 'echo applying 3 migrations; echo "ERROR: relation already exists" >&2; exit 3' >/dev/null 2>&1 || true
  t0=$(ms)
  until curl -sf "http://$http/api/v1/releases/$rel/causes" | grep -q '"category":"deploy-script"'; do
    sleep 0.005
    if [ $(( $(ms) - t0 )) -gt 30000 ]; then
      echo "cause_latency_bench: no deploy-script cause for $rel after 30 s" >&2
      exit 1
    fi
  done
  results+=($(( $(ms) - t0 )))
done
sorted=$(printf '%s\n' "${results[@]}" | sort -n)
pick() { echo "$sorted" | awk -v p="$1" -v n="$runs" 'NR == int((n - 1) * p) + 1'; }
printf 'runs: %d\n' "$runs"
printf 'failing hook returned -> cause listed: p50 %s ms, p99 %s ms, max %s ms\n' "$(pick 0.5)" "$(pick 0.99)" "$(pick 1)"
