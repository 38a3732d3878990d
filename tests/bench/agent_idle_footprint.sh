#!/usr/bin/env bash
# Benchmark (prints figures; not a test): the idle footprint of `octolaunch-agent run`.
#
# Starts a real octolaunch-collector on loopback and an agent with every host source switched on
# (each turns itself off where the host lacks what it reads), shipping to it. Once the agent is
# connected and has settled (5 s), samples /proc/PID/status every second for N seconds and
# reports:
#   * RSS (VmRSS) at start / end / max of the period, and VmHWM (peak since the agent started);
#   * CPU in % of one core over the period (utime+stime from /proc/PID/stat, in CLK_TCK ticks);
#   * thread count and thread names;
#   * /proc/PID/smaps_rollup (Rss, Pss, Anonymous, Pss_Anon/Pss_File, shared/private clean/dirty);
#   * RSS by mapping (from /proc/PID/smaps): per file (binary, each shared library, the LMDB
#     spool), [heap], anonymous mappings, stacks -- and the largest single mappings.
#
# Usage (as root):
#   tests/bench/agent_idle_footprint.sh BIN_DIR [--seconds N] [--container]
#     BIN_DIR      directory holding octolaunch-agent and octolaunch-collector
#     --seconds N  length of the measured period (default 60)
#     --container  run the agent inside a real systemd 252 container
#                  (tests/containers/systemd-host.sh, host network) as a transient unit,
#                  with the system journal source on, shipping to a collector on the host; the
#                  agent binary and the shared libraries the image lacks are copied into
#                  /opt/octolaunch/{bin,lib} and found through LD_LIBRARY_PATH. /proc is read
#                  from inside the container. The container is stopped and removed at the end.
#   Env: OL_FOOTPRINT_NAME (container name, default octolaunch-footprint-PID).
set -euo pipefail

die() { echo "agent_idle_footprint: error: $*" >&2; exit 1; }
log() { printf '[footprint %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
usage() { echo "usage: $0 BIN_DIR [--seconds N] [--container]" >&2; exit 2; }

bin=""
seconds=60
container=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    --container) container=1; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [ -z "$bin" ] || usage; bin=$1; shift ;;
  esac
done
[ -n "$bin" ] || usage
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 2 ] || die "--seconds must be an integer >= 2"

# ---- preconditions ----------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "must run as root (the agent reads /dev/kmsg; --container needs rootful podman)"
[ -d "$bin" ] || die "BIN_DIR '$bin' is not a directory"
bin=$(cd "$bin" && pwd)
for b in octolaunch-agent octolaunch-collector; do
  [ -x "$bin/$b" ] || die "$bin/$b is missing or not executable (build it first)"
done
for t in getconf awk sed mktemp sort; do command -v "$t" >/dev/null || die "$t not found"; done
clk_tck=$(getconf CLK_TCK)
sdhost=$(cd "$(dirname "$0")/../containers" && pwd)/systemd-host.sh
name=${OL_FOOTPRINT_NAME:-octolaunch-footprint-$$}
if [ "$container" = 1 ]; then
  command -v podman >/dev/null || die "--container needs podman (not found in PATH)"
  command -v ldd >/dev/null || die "--container needs ldd"
  ! podman container exists "$name" 2>/dev/null || die "container $name already exists"
fi

work=$(mktemp -d /tmp/octolaunch-footprint.XXXXXX)
collector="" agent="" booted=0
cleanup() {
  local rc=$?
  set +e
  [ -n "$agent" ] && kill "$agent" 2>/dev/null
  [ -n "$collector" ] && kill "$collector" 2>/dev/null
  wait 2>/dev/null
  if [ "$booted" = 1 ]; then
    log "stopping and removing container $name"
    podman stop -t 30 "$name" >/dev/null 2>&1
    podman rm -f "$name" >/dev/null 2>&1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE   # e.g. piped into head: still clean up

# ---- collector on the host's loopback ---------------------------------------------------------
token="footprint-$$-$RANDOM"
source "$(dirname "$0")/start_collector.sh"
start_collector "$bin" "$work" --agent-token "$token" || die "collector did not start"
log "collector: rpc $rpc, http $http"

# Agent config: every host source on (each switches itself off where the host lacks it).
write_agent_config() {  # $1 = file
  cat >"$1" <<'TOML'
[sources]
enabled = true
[sources.kmsg]
enabled = true
[sources.cgroup]
enabled = true
[sources.psi]
enabled = true
[sources.disk]
enabled = true
[sources.fd]
enabled = true
[sources.journal]
enabled = true
[sources.containers]
enabled = true
TOML
}
write_agent_config "$work/agent.toml"

# ---- start the agent (host or container) ------------------------------------------------------
# read_proc FILE: the agent's /proc/PID/FILE, read where the agent runs.
if [ "$container" = 0 ]; then
  mode="host ($(uname -r))"
  "$bin/octolaunch-agent" --config "$work/agent.toml" --spool-dir "$work/spool" \
    --collector "$rpc" --agent-id footprint-host --host "$(hostname)" --token "$token" run \
    2>"$work/agent.log" &
  agent=$!
  pid=$agent
  read_proc() { cat "/proc/$pid/$1"; }
  agent_log() { cat "$work/agent.log"; }
  agent_alive() { kill -0 "$agent" 2>/dev/null; }
else
  mode="container $name (systemd in podman, host network)"
  log "booting systemd container $name"
  booted=1
  OCTOLAUNCH_SDHOST_NET=host bash "$sdhost" "$name" >"$work/sdhost.out" 2>"$work/sdhost.log" ||
    { cat "$work/sdhost.log" >&2; die "systemd-host.sh $name failed"; }
  cexec() { podman exec "$name" "$@"; }
  # The agent and the libraries the image lacks (same path missing in the container).
  mapfile -t libs < <(ldd "$bin/octolaunch-agent" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
  [ "${#libs[@]}" -gt 0 ] || die "ldd found no libraries for $bin/octolaunch-agent"
  mapfile -t missing < <(cexec sh -c 'for f; do [ -e "$f" ] || echo "$f"; done' sh "${libs[@]}")
  mkdir -p "$work/opt/bin" "$work/opt/lib"
  cp "$bin/octolaunch-agent" "$work/opt/bin/"
  for f in "${missing[@]}"; do cp -L "$f" "$work/opt/lib/$(basename "$f")"; done
  cexec mkdir -p /opt/octolaunch /etc/octolaunch
  podman cp "$work/opt/bin" "$name:/opt/octolaunch/" >/dev/null
  podman cp "$work/opt/lib" "$name:/opt/octolaunch/" >/dev/null
  podman cp "$work/agent.toml" "$name:/etc/octolaunch/agent.toml" >/dev/null
  log "copied the agent and ${#missing[@]} of ${#libs[@]} libraries into /opt/octolaunch: $(printf '%s ' "${missing[@]##*/}")"
  if cexec env LD_LIBRARY_PATH=/opt/octolaunch/lib ldd /opt/octolaunch/bin/octolaunch-agent | grep 'not found'; then
    die "libraries still missing in the container (above)"
  fi
  cexec systemd-run --quiet --unit octolaunch-agent -p Environment=LD_LIBRARY_PATH=/opt/octolaunch/lib \
    /opt/octolaunch/bin/octolaunch-agent --config /etc/octolaunch/agent.toml \
    --spool-dir /var/lib/octolaunch-agent/spool --collector "$rpc" --agent-id "footprint-$name" \
    --host "$name" --token "$token" run
  pid=""
  for _ in $(seq 1 50); do
    pid=$(cexec systemctl show -p MainPID --value octolaunch-agent 2>/dev/null || true)
    [ -n "$pid" ] && [ "$pid" != 0 ] && break
    sleep 0.1
  done
  [ -n "$pid" ] && [ "$pid" != 0 ] || { cexec journalctl -u octolaunch-agent --no-pager >&2 || true; die "agent unit did not start"; }
  read_proc() { podman exec "$name" cat "/proc/$pid/$1"; }
  agent_log() { podman exec "$name" journalctl -u octolaunch-agent -o cat --no-pager; }
  agent_alive() { [ "$(podman exec "$name" systemctl is-active octolaunch-agent 2>/dev/null)" = active ]; }
fi

# Wait for the connection to the collector, then let it settle.
for _ in $(seq 1 100); do
  agent_log 2>/dev/null | grep 'connected to collector' >/dev/null && break
  agent_alive || { agent_log >&2 || true; die "agent exited at start"; }
  sleep 0.2
done
agent_log | grep 'connected to collector' >/dev/null || { agent_log >&2; die "agent did not connect to the collector"; }
log "agent pid $pid connected; settling 5 s"
sleep 5
agent_alive || { agent_log >&2; die "agent exited while settling"; }

# ---- measure ----------------------------------------------------------------------------------
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$2"; }
cpu_ticks() { read_proc stat | sed 's/^.*) //' | awk '{ print $12 + $13 }'; }  # utime+stime (fields 14,15)

now() { date +%s.%N; }
st=$(read_proc status)
rss_start=$(status_kb VmRSS "$st"); rss_max=$rss_start; rss_min=$rss_start
ticks0=$(cpu_ticks); t0=$(now)
samples=1
log "measuring for $seconds s"
end=$(awk -v t="$t0" -v s="$seconds" 'BEGIN { printf "%.3f", t + s }')
while awk -v n="$(now)" -v e="$end" 'BEGIN { exit !(n < e - 1) }'; do
  sleep 1
  st=$(read_proc status) || die "agent (pid $pid) disappeared during the measurement"
  r=$(status_kb VmRSS "$st")
  [ "$r" -gt "$rss_max" ] && rss_max=$r
  [ "$r" -lt "$rss_min" ] && rss_min=$r
  samples=$((samples + 1))
done
sleep "$(awk -v n="$(now)" -v e="$end" 'BEGIN { d = e - n; if (d < 0) d = 0; printf "%.3f", d }')"
st=$(read_proc status)
ticks1=$(cpu_ticks); t1=$(now)
rss_end=$(status_kb VmRSS "$st")
[ "$rss_end" -gt "$rss_max" ] && rss_max=$rss_end
[ "$rss_end" -lt "$rss_min" ] && rss_min=$rss_end
samples=$((samples + 1))
hwm=$(status_kb VmHWM "$st")
threads=$(awk '$1 == "Threads:" { print $2 }' <<<"$st")
if [ "$container" = 0 ]; then
  tnames=$(cat /proc/"$pid"/task/*/comm 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s x%d", sep, $2, $1; sep = ", " }')
else
  tnames=$(podman exec "$name" sh -c "cat /proc/$pid/task/*/comm" 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s x%d", sep, $2, $1; sep = ", " }')
fi
rollup=$(read_proc smaps_rollup)
smaps=$(read_proc smaps)
sources=$(agent_log | sed -n 's/.*host sources running: //p' | tail -1)
hosts=$(curl -s "http://$http/api/v1/hosts" 2>/dev/null || true)

# ---- report -----------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
cpu=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$clk_tck" -v t0="$t0" -v t1="$t1" \
  'BEGIN { printf "%.3f", (b - a) / hz / (t1 - t0) * 100 }')
period=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

echo "== octolaunch-agent idle footprint: $mode"
echo "binary:        $bin/octolaunch-agent ($(stat -c %s "$bin/octolaunch-agent") bytes)"
echo "sources on:    ${sources:-?}"
echo "collector:     $rpc ($(grep -o '"events_stored":[0-9]*' <<<"$hosts" | head -1 || true))"
echo "period:        $period s after 5 s settle, $samples samples of /proc/$pid/status"
printf 'RSS start:     %8d KiB  %7s MiB\n' "$rss_start" "$(mib "$rss_start")"
printf 'RSS end:       %8d KiB  %7s MiB\n' "$rss_end" "$(mib "$rss_end")"
printf 'RSS min/max:   %8d / %d KiB  (max %s MiB)\n' "$rss_min" "$rss_max" "$(mib "$rss_max")"
printf 'VmHWM:         %8d KiB  %7s MiB  (peak since agent start)\n' "$hwm" "$(mib "$hwm")"
printf 'CPU:           %s %% of one core  (%d ticks at %d Hz over %s s)\n' "$cpu" "$((ticks1 - ticks0))" "$clk_tck" "$period"
printf 'Threads:       %d  (%s)\n' "$threads" "$tnames"
printf 'VmSize:        %s KiB, VmData %s KiB, VmStk %s KiB, VmLib %s KiB, RssAnon %s, RssFile %s, RssShmem %s KiB\n' \
  "$(status_kb VmSize "$st")" "$(status_kb VmData "$st")" "$(status_kb VmStk "$st")" "$(status_kb VmLib "$st")" \
  "$(status_kb RssAnon "$st")" "$(status_kb RssFile "$st")" "$(status_kb RssShmem "$st")"
echo
echo "-- /proc/$pid/smaps_rollup (KiB)"
awk '$3 == "kB" && $1 ~ /^(Rss|Pss|Pss_Anon|Pss_File|Pss_Shmem|Shared_Clean|Shared_Dirty|Private_Clean|Private_Dirty|Anonymous|Swap):$/ {
       printf "  %-15s %8d\n", $1, $2 }' <<<"$rollup"
echo
echo "-- RSS by mapping, from /proc/$pid/smaps (KiB; Size = virtual)"
awk '
  /^[0-9a-f]+-[0-9a-f]+ / {
    name = ""; for (i = 6; i <= NF; i++) name = name (i > 6 ? " " : "") $i
    if (name == "") name = "[anon]"
    cur = name; n[cur]++; perms = $2; next
  }
  $1 == "Size:" { sz[cur] += $2 }
  $1 == "Rss:" { rss[cur] += $2 }
  $1 == "Pss:" { pss[cur] += $2 }
  $1 == "Anonymous:" { anon[cur] += $2 }
  END {
    for (k in rss) printf "%8d %8d %8d %8d %4d  %s\n", rss[k], pss[k], anon[k], sz[k], n[k], k
  }' <<<"$smaps" | sort -rn | awk '
  BEGIN { printf "  %8s %8s %8s %9s %4s  %s\n", "Rss", "Pss", "Anon", "Size", "maps", "mapping" }
  NR <= 22 { printf "  %8d %8d %8d %9d %4d  %s\n", $1, $2, $3, $4, $5, substr($0, index($0, $6)) ; next }
  { orss += $1; opss += $2; oanon += $3; osz += $4; on += $5; others++ }
  END { if (others) printf "  %8d %8d %8d %9d %4d  (%d other mappings)\n", orss, opss, oanon, osz, on, others }'
