#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing (apt-get), builds, starts a local
# collector with its own LMDB store and an agent, registers a release, runs a sample deploy whose
# migration hook fails, then prints what was captured and where to look.
#
#   bash scripts/octolaunch-demo.sh [--once] [--keep-data]
#
# Without --once it keeps the collector and agent running (so you can query the HTTP API, use the
# octolaunch CLI or run more hooks) until Ctrl-C, then stops both cleanly.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
once=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --once) once=1 ;;
    --keep-data) keep=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

echo "== installing packages (if missing)"
bash "$here/scripts/install-deps.sh"
build_dir=${BUILD_DIR:-$here/build}
build_log=$(mktemp /tmp/octolaunch-demo-build.XXXXXX)
echo "== building the collector, the agent and the CLI into $build_dir"
echo "   (a first build takes several minutes on a small machine; later ones only what changed)"
BUILD_DIR=$build_dir bash "$here/scripts/build.sh" -DOCTOLAUNCH_BUILD_TESTS=OFF \
  -DOCTOLAUNCH_BUILD_BENCHMARKS=OFF >"$build_log" 2>&1 &
build_pid=$!
# Every 10 s, how far the build is and what it compiles ("[ 42%] Building CXX object ...").
last=""
while kill -0 "$build_pid" 2>/dev/null; do
  sleep 1
  [ $((SECONDS % 10)) -eq 0 ] || continue
  step=$(grep -E '^\[ *[0-9]+(%|/[0-9]+)\]' "$build_log" | tail -n 1 |
    sed -E 's/^(\[ *[0-9]+(%|\/[0-9]+)\]) Building .*\/([^/]+)\.o$/\1 compiling \3/' || true)
  [ -n "$step" ] && [ "$step" != "$last" ] && echo "   $step" && last=$step
done
if ! wait "$build_pid"; then
  echo "build failed; the last lines of $build_log:" >&2
  tail -n 40 "$build_log" >&2
  exit 1
fi
echo "   built ($(grep -cE '^\[ *[0-9]+(%|/[0-9]+)\] Building' "$build_log") files compiled this time)"
rm -f "$build_log"
bin=$build_dir/bin

work=$(mktemp -d /tmp/octolaunch-demo.XXXXXX)
collector_pid=""
agent_pid=""
cleanup() {
  trap - EXIT INT TERM
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
  [ -n "$collector_pid" ] && kill -TERM "$collector_pid" 2>/dev/null && wait "$collector_pid" 2>/dev/null || true
  if [ "$keep" = 1 ]; then
    echo "data kept in $work"
  else
    rm -rf "$work"
  fi
  echo "stopped."
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# The agent enrolls with this secret and receives its own key (kept in its spool directory).
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
echo "== starting collector (store: $work/collector)"
"$bin/octolaunch-collector" --config /dev/null --data-dir "$work/collector" --agent-token "$secret" \
  --rpc-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 >"$work/collector.out" 2>"$work/collector.log" &
collector_pid=$!
for _ in $(seq 1 100); do
  grep -q '^http listening on ' "$work/collector.out" 2>/dev/null && break
  sleep 0.1
done
rpc=$(sed -n 's/^rpc listening on //p' "$work/collector.out")
http=$(sed -n 's/^http listening on //p' "$work/collector.out")
[ -n "$http" ] || { echo "collector did not start:"; cat "$work/collector.log"; exit 1; }
url="http://$http"
export OCTOLAUNCH_URL="$url"

agent_flags=(--config /dev/null --spool-dir "$work/spool" --collector "$rpc" --host "$(hostname)"
  --token "$secret")
echo "== starting agent (spool: $work/spool)"
"$bin/octolaunch-agent" run "${agent_flags[@]}" 2>"$work/agent.log" &
agent_pid=$!

release="api-$(date +%Y%m%d-%H%M%S)"
echo "== CI registers release $release"
"$bin/octolaunch" release create --id "$release" --service api --version 1.4.0 \
  --commit 9f2c1e7 --artifact-digest sha256:5d1f3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504 \
  --ci-run-url https://ci.example.com/acme/api/runs/812 \
  --ci-job-url https://ci.example.com/acme/api/jobs/4411 || echo "(release registration failed; continuing)"

echo "== sample deploy of $release on $(hostname)"
"$bin/octolaunch-agent" deploy start "${agent_flags[@]}" --release "$release" --service api
set +e
"$bin/octolaunch-agent" hook "${agent_flags[@]}" --release "$release" --service api --phase migrate \
  -- "$here/scripts/sample-deploy/migrate.sh"
status=$?
set -e
echo "-- migrate hook exited with $status"
outcome=ok
[ "$status" -eq 0 ] || outcome=failed
if [ "$status" -eq 0 ]; then
  "$bin/octolaunch-agent" hook "${agent_flags[@]}" --release "$release" --service api --phase restart \
    -- "$here/scripts/sample-deploy/restart.sh"
fi
"$bin/octolaunch-agent" deploy finish "${agent_flags[@]}" --release "$release" --service api --outcome "$outcome"

echo "== waiting for the agent to ship the deploy's events"
for _ in $(seq 1 100); do
  n=$("$bin/octolaunch" events --release "$release" --kind deploy.finish --json 2>/dev/null | grep -c '"deploy.finish"' || true)
  [ "${n:-0}" -ge 1 ] && break
  sleep 0.1
done

echo
echo "== what was captured for $release"
"$bin/octolaunch" events --release "$release" || true
echo
if "$bin/octolaunch" why --help >/dev/null 2>&1; then
  echo "== why did $release fail?"
  "$bin/octolaunch" why "$release" || true
  echo
fi
echo "== where to look"
echo "  web UI:         $url/releases/$release"
echo "  HTTP API:       $url/api/v1/releases/$release/causes   ($url/api/v1/events?release=$release)"
echo "  CLI:            OCTOLAUNCH_URL=$url $bin/octolaunch events --release $release"
echo "  collector log:  $work/collector.log     agent log: $work/agent.log"

if [ "$once" = 1 ]; then
  exit 0
fi
echo
echo "collector and agent keep running; press Ctrl-C to stop."
wait "$collector_pid"
