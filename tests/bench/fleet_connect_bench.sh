#!/usr/bin/env bash
# Benchmark (prints figures; not a test): 1,000 agent connections at once against a real collector
# (each hello + one small push), then how many events it stored.
#   tests/bench/fleet_connect_bench.sh [BIN_DIR] [AGENTS] [THREADS]
set -euo pipefail
bin=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
agents=${2:-1000}
threads=${3:-4}
for b in octolaunch-collector fleet_connect_bench; do
  [ -x "$bin/$b" ] || { echo "fleet_connect_bench: $bin/$b is missing (build it first)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/octolaunch-fleet.XXXXXX)
collector=""
trap 'kill $collector 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
source "$(dirname "$0")/start_collector.sh"
start_collector "$bin" "$work" --rpc-open  # the clients present no credentials
status=0
"$bin/fleet_connect_bench" "$rpc" "$collector" "$agents" "$threads" || status=$?
curl -sf "http://$http/metrics" | grep -E '^octolaunch_ingest_(events_stored_total|connections_(accepted|refused)_total|connections_cut_total)'
exit $status
