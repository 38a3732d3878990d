#!/usr/bin/env bash
# Every ingest and storage figure of OctoLaunch in one run: builds a Release tree, runs each
# benchmark, prints one line per figure, `name value unit` (ratios are figures of their own, unit
# `ratio`; a figure that cannot be taken here prints `name skipped reason`), and writes the same
# figures with the machine (nproc, kernel, commit) as JSON, for comparing commits.
#
#   scripts/bench.sh [--quick] [--out FILE] [--build-dir DIR] [--bin-dir DIR] [--runs N] [--container]
#   scripts/bench.sh --list-figures
#     --quick         tiny sizes, under a minute: the test suite runs it so the script can't rot
#     --out FILE      the JSON (default ./bench-results.json)
#     --build-dir DIR the Release build (default build-release, benchmarks on, tests off)
#     --bin-dir DIR   use the binaries already built there; nothing is configured or built
#     --runs N        interleaved rounds of the wall-time comparisons (default 10, quick 2)
#     --container     also the idle agent inside a systemd container (podman, root)
#     --only LIST     only these parts, comma-separated: ingest (with its references and storage),
#                     ack, hook, analysis, queryable, footprint, connections; the rest are skipped
#     --list-figures  print the name of every figure, one a line, and exit
#
# Units: an event is one source record (one hook line is one event); the mix is hook lines of
# 80-200 bytes with 1 % other kinds (tests/bench/event_mix.h). Wall-time figures and their ratios
# are the median of the interleaved rounds, each with a `_spread_pct` figure: (max - min) / median.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
benchdir=$here/tests/bench

# Every figure this script reports, in order (the quick test checks the JSON holds each one).
figures=(
  ingest_1_agent ingest_8_agents ingest_64_agents
  lmdb_append ingest_8_agents_vs_lmdb_append
  journal_remote_export ingest_8_agents_vs_journal_remote_export
  journal_upload_http ingest_8_agents_vs_journal_upload_http
  store_bytes_per_event journal_bytes_per_event store_vs_journal_bytes
  ingest_64_agents_anon_per_connection ingest_64_agents_push_ack_p99 ingest_64_agents_starved
  hook_bare hook_wrapped hook_overhead command_end_to_stored hook_daemon_cpu_quota
  causes_p50 causes_p99 timeline_p50 timeline_p99 analysis_store_events
  event_to_queryable_idle_p50 event_to_queryable_idle_p99
  event_to_queryable_load_p50 event_to_queryable_load_p99
  agent_idle_rss_host agent_idle_cpu_host agent_idle_rss_container
  idle_connection_memory_1000 idle_connection_memory_10000
)

usage() { sed -n '7,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
quick=0 container=0 out=$PWD/bench-results.json build_dir=$here/build-release bin="" runs="" only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --container) container=1; shift ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift 2 ;;
    --bin-dir) [ $# -ge 2 ] || usage; bin=$(cd "$2" && pwd); shift 2 ;;
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
    --list-figures) printf '%s\n' "${figures[@]}"; exit 0 ;;
    *) usage ;;
  esac
done

parts=(ingest ack hook analysis queryable footprint connections)
for p in ${only//,/ }; do
  [[ " ${parts[*]} " == *" $p "* ]] || { echo "bench: --only: no part named '$p' (${parts[*]})" >&2; exit 2; }
done
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
unselected() { for f; do skip "$f" "not selected (--only $only)"; done; }

# ---- sizes ------------------------------------------------------------------------------------
if [ "$quick" = 1 ]; then
  events=12800 runs=${runs:-2} hook_lines=20000 cause_runs=3 footprint_seconds=2 fleet=200
  analysis_args=(--background 20000 --releases 20 --release-events 2000 --runs 5)
  ack_total=128000
else
  events=1024000 runs=${runs:-10} hook_lines=1000000 cause_runs=20 footprint_seconds=30 fleet=1000
  analysis_args=(--background 10000000 --releases 1000 --release-events 10000 --runs 200)
  ack_total=1280000
fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---- build ------------------------------------------------------------------------------------
if [ -z "$bin" ]; then
  log "building Release in $build_dir"
  launcher=()
  command -v ccache >/dev/null &&
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DOCTOLAUNCH_BUILD_TESTS=OFF -DOCTOLAUNCH_BUILD_BENCHMARKS=ON "${launcher[@]}" >/dev/null
  cmake --build "$build_dir" -j "${BENCH_BUILD_JOBS:-$(nproc)}" --target octolaunch-collector octolaunch-agent \
    octolaunch bench_mix ingest_bench analysis_bench fleet_connect_bench >/dev/null
  bin=$build_dir/bin
fi
for b in octolaunch-collector octolaunch-agent octolaunch bench_mix ingest_bench analysis_bench \
  fleet_connect_bench; do
  [ -x "$bin/$b" ] || { echo "bench: $bin/$b is missing" >&2; exit 1; }
done
for t in curl python3 du awk; do command -v "$t" >/dev/null || { echo "bench: $t not found" >&2; exit 1; }; done

work=$(mktemp -d /tmp/octolaunch-bench.XXXXXX)
collector="" pids=()
cleanup() {
  set +e
  [ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2>/dev/null
  [ -n "$collector" ] && kill "$collector" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$benchdir/start_collector.sh"

# ---- results ----------------------------------------------------------------------------------
# $work/results.tsv: name, value (or "skipped"), unit (or the reason).
emit() {  # name value unit; an empty value (the benchmark printed no figure) is a skip
  [ -n "$2" ] || { skip "$1" "the benchmark failed or printed no figure (its errors are in the log)"; return; }
  printf '%s %s %s\n' "$1" "$2" "$3"
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$work/results.tsv"
}
skip() {  # name reason
  printf '%s skipped %s\n' "$1" "$2"
  printf '%s\tskipped\t%s\n' "$1" "$2" >>"$work/results.tsv"
}
# summarize FILE: "median spread_pct" of the numbers in FILE, one a line.
summarize() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf (m >= 1000 ? "%.0f" : "%.4g"), m
    printf " %.1f\n", (m > 0) ? (v[NR] - v[1]) * 100 / m : 0 }'
}
emit_median() {  # name unit FILE
  local s
  s=$(summarize "$3")
  emit "$1" "${s% *}" "$2"
  emit "$1_spread_pct" "${s#* }" "%"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f\n", n / s }'; }
stored_total() { curl -sf "http://$http/metrics" | awk '/^octolaunch_events_stored_total/ { s += $2 } END { print s + 0 }'; }
metric() { curl -sf "http://$http/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
anon_kib() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status"; }

# ---- ingest: real agents draining full spools ---------------------------------------------------
token="bench-$$-$RANDOM"
printf '[sources]\nenabled = false\n[spool]\nmax_bytes = %d\n' $((64 << 30)) >"$work/agent.toml"
if want ingest || want queryable; then
  log "filling spools: $events events for 1, 8 and 64 agents"
  for n in 1 8 64; do
    "$bin/bench_mix" spool "$work/spools-$n" "$n" $((events / n))
  done
fi

# drain N DIR [PROBE_RUNS]: copies the full spools of N agents into DIR, starts a collector, then
# the agents, and times until the collector has stored every event. Sets drain_s, txn_events,
# store_bytes and, for 64 agents, anon_peak_kib (the collector's anonymous memory above its idle
# level). Fairness among 64 agents is ingest_bench's (below): real agents start and enroll over
# ~2 s, longer than the drain, so who got what by half-time measured their start, not the collector.
# PROBE_RUNS: once 5 % are stored, cause_latency_bench probes the busy collector that many times
# (output in $work/probe.out; probe_pending: events still to store when it finished).
drain() {
  local n=$1 dir=$2 probe_runs=${3:-} probe="" total=$events stored=0 a anon anon0 t0 deadline poll
  local last_commit
  probe_pending=""
  cp -a "$work/spools-$n" "$dir"
  start_collector "$bin" "$dir" --agent-token "$token"
  anon0=$(anon_kib "$collector") anon_peak_kib=0
  t0=$(now)
  pids=()
  for ((a = 0; a < n; a++)); do
    "$bin/octolaunch-agent" --config "$work/agent.toml" --spool-dir "$dir/a$a/spool" \
      --collector "$rpc" --agent-id "bench-agent-$a" --host "bench-$a" --token "$token" run \
      2>"$dir/a$a.log" &
    pids+=($!)
  done
  # The drain ends when the last transaction was answered (the collector's own clock), not when
  # this loop sees it: the poll's interval and its processes stay out of the figure.
  deadline=$((SECONDS + 900)) poll=0.2
  [ "$n" = 64 ] && poll=0.05  # the collector's memory peak is sampled here
  while [ "$stored" -lt "$total" ]; do
    sleep "$poll"
    stored=$(stored_total)
    if [ -n "$probe_runs" ] && [ -z "$probe" ] && [ $((stored * 20)) -ge "$total" ]; then
      CAUSE_BENCH_COLLECTOR="$rpc $http $token" bash "$benchdir/cause_latency_bench.sh" "$bin" \
        "$probe_runs" >"$work/probe.out" 2>"$work/probe.err" &
      probe=$!
    fi
    if [ -n "$probe" ] && [ -z "$probe_pending" ] && ! kill -0 "$probe" 2>/dev/null; then
      probe_pending=$((total - stored))
    fi
    if [ "$n" = 64 ]; then
      anon=$(anon_kib "$collector")
      [ $((anon - anon0)) -gt "$anon_peak_kib" ] && anon_peak_kib=$((anon - anon0))
    fi
    if ! kill -0 "$collector" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
      echo "bench: $n agents: $stored of $total events stored; the collector's log:" >&2
      tail -20 "$dir/c.log" >&2
      exit 1
    fi
  done
  last_commit=$(metric octolaunch_ingest_last_commit_timestamp_seconds)
  case "$last_commit" in "" | 0) last_commit=$(now) ;; esac  # a collector without it: when seen
  drain_s=$(elapsed "$t0" "$last_commit")
  if [ -n "$probe" ]; then
    wait "$probe" || { cat "$work/probe.err" >&2; exit 1; }
    probe_pending=${probe_pending:-0}
  fi
  txn_events=$(awk -v e="$stored" -v t="$(metric octolaunch_ingest_commit_transactions_total)" \
    'BEGIN { printf "%d", (t > 0) ? e / t : e }')
  kill "${pids[@]}" "$collector"
  wait "${pids[@]}" "$collector" || true
  pids=() collector=""
  store_bytes=$(du -B1 -s "$dir/c" | cut -f1)
  rm -rf "$dir"
}

if want ingest; then
# ---- references -------------------------------------------------------------------------------
"$bin/bench_mix" export "$work/mix-8.export" 8 $((events / 8))
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
journal_remote=/lib/systemd/systemd-journal-remote
journal_upload=/lib/systemd/systemd-journal-upload
have_journal=1
[ -x "$journal_remote" ] && [ -x "$journal_upload" ] || have_journal=0

journal_export() {  # DIR: sets journal_s, journal_bytes
  mkdir -p "$1"
  local t0
  t0=$(now)
  "$journal_remote" --split-mode=none -o "$1/remote.journal" "$work/mix-8.export" 2>"$1.log"
  journal_s=$(elapsed "$t0" "$(now)")
  journal_bytes=$(du -B1 -s "$1" | cut -f1)
  rm -rf "$1"
}
journal_http() {  # DIR: sets upload_s (upload start until the receiver has written and exited)
  mkdir -p "$1"
  local port t0 remote
  port=$(free_port)
  "$journal_remote" --split-mode=none --listen-http="127.0.0.1:$port" -o "$1/remote.journal" 2>"$1.log" &
  remote=$!
  pids=("$remote")
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$remote" 2>/dev/null || { cat "$1.log" >&2; exit 1; }
    sleep 0.02
  done
  t0=$(now)
  "$journal_upload" -u "http://127.0.0.1:$port" "$work/mix-8.export" 2>>"$1.log"
  kill "$remote"
  wait "$remote" || true
  pids=()
  upload_s=$(elapsed "$t0" "$(now)")
  rm -rf "$1"
}

# ---- interleaved rounds -------------------------------------------------------------------------
for r in $(seq 1 "$runs"); do
  log "round $r of $runs"
  for n in 1 8 64; do
    drain "$n" "$work/round"
    rate "$events" "$drain_s" >>"$work/ingest-$n"
    if [ "$n" = 8 ]; then
      ours_s=$drain_s
      echo "$store_bytes" >>"$work/store-bytes"
      echo "$txn_events" >>"$work/txn-events"
    fi
    if [ "$n" = 64 ]; then
      awk -v k="$anon_peak_kib" 'BEGIN { printf "%.1f\n", k / 64 }' >>"$work/anon-per-conn"
    fi
  done
  lmdb_s=$("$bin/bench_mix" lmdb "$work/lmdb" 8 $((events / 8)) "$txn_events" | awk '{ print $2 }')
  rm -rf "$work/lmdb"
  rate "$events" "$lmdb_s" >>"$work/lmdb-rate"
  awk -v o="$ours_s" -v l="$lmdb_s" 'BEGIN { printf "%.4f\n", l / o }' >>"$work/vs-lmdb"
  if [ "$have_journal" = 1 ]; then
    journal_export "$work/journal"
    rate "$events" "$journal_s" >>"$work/rate-journal-export"
    echo "$journal_bytes" >>"$work/journal-bytes"
    awk -v o="$ours_s" -v j="$journal_s" 'BEGIN { printf "%.4f\n", j / o }' >>"$work/vs-export"
    journal_http "$work/journal-http"
    rate "$events" "$upload_s" >>"$work/rate-journal-http"
    awk -v o="$ours_s" -v j="$upload_s" 'BEGIN { printf "%.4f\n", j / o }' >>"$work/vs-http"
  fi
done

emit_median ingest_1_agent events/s "$work/ingest-1"
emit_median ingest_8_agents events/s "$work/ingest-8"
emit_median ingest_64_agents events/s "$work/ingest-64"
emit_median lmdb_append events/s "$work/lmdb-rate"
emit_median ingest_8_agents_vs_lmdb_append ratio "$work/vs-lmdb"
if [ "$have_journal" = 1 ]; then
  emit_median journal_remote_export events/s "$work/rate-journal-export"
  emit_median ingest_8_agents_vs_journal_remote_export ratio "$work/vs-export"
  emit_median journal_upload_http events/s "$work/rate-journal-http"
  emit_median ingest_8_agents_vs_journal_upload_http ratio "$work/vs-http"
else
  for f in journal_remote_export ingest_8_agents_vs_journal_remote_export journal_upload_http \
    ingest_8_agents_vs_journal_upload_http; do
    skip "$f" "systemd-journal-remote/-upload not installed in /lib/systemd"
  done
fi
store_b=$(summarize "$work/store-bytes" | cut -d' ' -f1)
emit store_bytes_per_event "$(awk -v b="$store_b" -v n="$events" 'BEGIN { printf "%.1f", b / n }')" B
if [ "$have_journal" = 1 ]; then
  journal_b=$(summarize "$work/journal-bytes" | cut -d' ' -f1)
  emit journal_bytes_per_event "$(awk -v b="$journal_b" -v n="$events" 'BEGIN { printf "%.1f", b / n }')" B
  emit store_vs_journal_bytes "$(awk -v a="$store_b" -v b="$journal_b" 'BEGIN { printf "%.3f", a / b }')" ratio
else
  skip journal_bytes_per_event "systemd-journal-remote not installed"
  skip store_vs_journal_bytes "systemd-journal-remote not installed"
fi
emit ingest_64_agents_anon_per_connection "$(summarize "$work/anon-per-conn" | cut -d' ' -f1)" KiB
else
  unselected ingest_1_agent ingest_8_agents ingest_64_agents lmdb_append \
    ingest_8_agents_vs_lmdb_append journal_remote_export ingest_8_agents_vs_journal_remote_export \
    journal_upload_http ingest_8_agents_vs_journal_upload_http store_bytes_per_event \
    journal_bytes_per_event store_vs_journal_bytes ingest_64_agents_anon_per_connection
fi
# p99 of push -> acknowledgement and fairness with 64 agents pushing at once: the real agent does
# not expose its ack times, so this is ingest_bench (in-process collector, 64 RPC clients that all
# say hello before the first push, batches of 2,000). Starved: agents under 10 % of their fair
# share when half of all pushes had been acknowledged.
if want ack; then
  ack=$("$bin/ingest_bench" 64 2000 "$ack_total" 2 once 2>/dev/null) || ack=""
  emit ingest_64_agents_push_ack_p99 \
    "$(sed -n 's/^push ack latency ms: p50 [0-9.]* p99 \([0-9.]*\) .*/\1/p' <<<"$ack")" ms
  if grep -q '^fairness: not judged' <<<"$ack"; then
    skip ingest_64_agents_starved "$(sed -n 's/^fairness: //p' <<<"$ack")"
  else
    emit ingest_64_agents_starved "$(sed -n 's/^fairness: starved \([0-9]*\) of.*/\1/p' <<<"$ack")" agents
  fi
else
  unselected ingest_64_agents_push_ack_p99 ingest_64_agents_starved
fi

# ---- hook overhead; command end -> stored -------------------------------------------------------
if want hook; then
# At least 20 rounds in the full run: a round takes seconds, and this VM's speed drifts by tens of
# percent between rounds, more than the wrapper's cost.
hook_rounds=$runs
[ "$quick" = 1 ] || [ "$hook_rounds" -ge 20 ] || hook_rounds=20
log "hook wrapper: $hook_lines lines, $hook_rounds rounds"
hook=$(bash "$benchdir/hook_pipeline_bench.sh" "$bin" "$hook_lines" "$hook_rounds") || hook=""
printf '%s\n' "$hook" | sed -n 's/^round /[hook] round /p' >&2
hook_figure() {  # LABEL: "median spread" of the line that starts with LABEL
  sed -n "s/^$1 *\([0-9.]*\) s  (spread \([0-9.]*\) %).*/\1 \2/p" <<<"$hook"
}
read -r hb hb_spread < <(hook_figure 'bare (median):' || true) || true
read -r hw hw_spread < <(hook_figure 'under hook (daemon on):' || true) || true
emit hook_bare "${hb:-}" s
emit hook_bare_spread_pct "${hb_spread:-}" %
emit hook_wrapped "${hw:-}" s
emit hook_wrapped_spread_pct "${hw_spread:-}" %
emit hook_overhead "$(sed -n 's/.*(overhead \(-\{0,1\}[0-9.]*\) %)$/\1/p' <<<"$hook")" %
emit command_end_to_stored "$(sed -n 's/^command end -> all stored: *\([0-9.]*\) s.*/\1/p' <<<"$hook")" s
hook_quota=$(sed -n 's/^daemon: as its unit runs it: .*CPUQuota=\([0-9]*\)%.*/\1/p' <<<"$hook")
if [ -n "$hook_quota" ]; then
  emit hook_daemon_cpu_quota "$hook_quota" %
else
  skip hook_daemon_cpu_quota "$(sed -n 's/^daemon: //p' <<<"$hook")"
fi
else
  unselected hook_bare hook_wrapped hook_overhead command_end_to_stored hook_daemon_cpu_quota
fi

# ---- causes / timeline over a large store -------------------------------------------------------
if want analysis; then
log "analysis: ${analysis_args[*]}"
analysis=$("$bin/analysis_bench" "${analysis_args[@]}" --dir "$work/analysis") || analysis=""
rm -rf "$work/analysis"
pick() {  # LABEL p50|p99: the wall figure of analysis_bench's line LABEL
  awk -v l="$1" -v p="$2" 'index($0, l) == 1 { for (i = 1; i < NF; i++) if ($i == p) { print $(i + 1); exit } }' <<<"$analysis"
}
emit causes_p50 "$(pick 'causes (LMDB store' p50)" ms
emit causes_p99 "$(pick 'causes (LMDB store' p99)" ms
emit timeline_p50 "$(pick 'timeline (LMDB store' p50)" ms
emit timeline_p99 "$(pick 'timeline (LMDB store' p99)" ms
emit analysis_store_events "$(sed -n 's/^store: \([0-9]*\) background events in [0-9]* releases + \([0-9]*\) events.*/\1 \2/p' <<<"$analysis" |
  awk '{ print $1 + $2 }')" events
else
  unselected causes_p50 causes_p99 timeline_p50 timeline_p99 analysis_store_events
fi

# ---- event -> queryable -------------------------------------------------------------------------
if want queryable; then
log "failing hook -> cause listed: $cause_runs runs"
cause=$(bash "$benchdir/cause_latency_bench.sh" "$bin" "$cause_runs") || cause=""
emit event_to_queryable_idle_p50 "$(sed -n 's/.*cause listed: p50 \([0-9]*\) ms.*/\1/p' <<<"$cause")" ms
emit event_to_queryable_idle_p99 "$(sed -n 's/.*cause listed: .* p99 \([0-9]*\) ms.*/\1/p' <<<"$cause")" ms
log "failing hook -> cause listed while 8 agents drain their spools: $cause_runs runs"
drain 8 "$work/round" "$cause_runs"
cause=$(cat "$work/probe.out")
log "the probe ended with $probe_pending of $events events still to store (0: part of it ran idle)"
emit event_to_queryable_load_p50 "$(sed -n 's/.*cause listed: p50 \([0-9]*\) ms.*/\1/p' <<<"$cause")" ms
emit event_to_queryable_load_p99 "$(sed -n 's/.*cause listed: .* p99 \([0-9]*\) ms.*/\1/p' <<<"$cause")" ms
else
  unselected event_to_queryable_idle_p50 event_to_queryable_idle_p99 event_to_queryable_load_p50 \
    event_to_queryable_load_p99
fi

# ---- idle agent; idle connections ---------------------------------------------------------------
if want footprint; then
if [ "$(id -u)" = 0 ]; then
  log "idle agent footprint (host): $footprint_seconds s"
  footprint=$(bash "$benchdir/agent_idle_footprint.sh" "$bin" --seconds "$footprint_seconds" 2>/dev/null) ||
    footprint=""
  emit agent_idle_rss_host "$(sed -n 's/^RSS end: *\([0-9]*\) KiB.*/\1/p' <<<"$footprint")" KiB
  emit agent_idle_cpu_host "$(sed -n 's/^CPU: *\([0-9.]*\) %.*/\1/p' <<<"$footprint")" %
else
  skip agent_idle_rss_host "needs root (the agent reads /dev/kmsg)"
  skip agent_idle_cpu_host "needs root (the agent reads /dev/kmsg)"
fi
if [ "$container" = 1 ]; then
  log "idle agent footprint (systemd container): $footprint_seconds s"
  footprint=$(bash "$benchdir/agent_idle_footprint.sh" "$bin" --seconds "$footprint_seconds" --container 2>/dev/null) ||
    footprint=""
  emit agent_idle_rss_container "$(sed -n 's/^RSS end: *\([0-9]*\) KiB.*/\1/p' <<<"$footprint")" KiB
else
  skip agent_idle_rss_container "pass --container (boots a systemd container with podman)"
fi
else
  unselected agent_idle_rss_host agent_idle_cpu_host agent_idle_rss_container
fi
# idle_connections N: KiB of collector memory (VmRSS) per connection with N agents connected, each
# having said hello and pushed 5 events, the clients spread over processes of up to 1,000
# connections each (the open-file limit is per process). Empty when a client failed.
idle_connections() {
  local n=$1 procs p rss0 rss1 fds=() ok=1 dir=$work/fleet
  procs=$(((n + 999) / 1000))
  mkdir -p "$dir"
  # The default [rpc] max_connections (2,048) would refuse the rest.
  printf '[rpc]\nmax_connections = %d\n' $((n + 100)) >"$dir/collector.toml"
  COLLECTOR_CONFIG=$dir/collector.toml start_collector "$bin" "$dir" --rpc-open
  rss0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$collector/status")
  pids=()
  for ((p = 0; p < procs; p++)); do
    mkfifo "$dir/hold-$p"
    "$bin/fleet_connect_bench" "$rpc" "$collector" $((n / procs)) 4 hold <"$dir/hold-$p" \
      >"$dir/out-$p" 2>"$dir/err-$p" &
    pids+=($!)
    exec {fd}>"$dir/hold-$p"
    fds+=("$fd")
  done
  for ((p = 0; p < procs; p++)); do
    until grep -q '^holding' "$dir/out-$p"; do
      kill -0 "${pids[$p]}" 2>/dev/null || { ok=0; break; }
      sleep 0.05
    done
  done
  rss1=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$collector/status")
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  pids=()
  kill "$collector"
  wait "$collector" || true
  collector=""
  [ "$ok" = 1 ] || { cat "$dir"/err-* >&2; rm -rf "$dir"; return 0; }
  rm -rf "$dir"
  awk -v a="$rss0" -v b="$rss1" -v n="$((n / procs * procs))" 'BEGIN { printf "%.1f", (b - a) / n }'
}
if want connections; then
# Quick mode takes the 1,000 figure with $fleet connections: only its presence means anything.
log "idle connections: $fleet"
emit idle_connection_memory_1000 "$(idle_connections "$fleet")" KiB
if [ "$quick" = 1 ]; then
  skip idle_connection_memory_10000 "full mode only"
else
  log "idle connections: 10000"
  emit idle_connection_memory_10000 "$(idle_connections 10000)" KiB
fi
else
  unselected idle_connection_memory_1000 idle_connection_memory_10000
fi

# ---- JSON ---------------------------------------------------------------------------------------
python3 - "$work/results.tsv" "$out" "$quick" "$events" "$runs" "$(nproc)" "$(uname -r)" \
  "$(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)" \
  "$(git -C "$here" status --porcelain 2>/dev/null | grep -q . && echo true || echo false)" <<'PY'
import json, sys
tsv, out, quick, events, runs, nproc, kernel, commit, dirty = sys.argv[1:]
figures = {}
for line in open(tsv):
    name, value, unit = line.rstrip("\n").split("\t")
    if value == "skipped":
        figures[name] = {"skipped": unit}
    else:
        figures[name] = {"value": float(value), "unit": unit}
doc = {
    "machine": {"nproc": int(nproc), "kernel": kernel, "commit": commit, "dirty": dirty == "true"},
    "mode": "quick" if quick == "1" else "full",
    "events": int(events),
    "rounds": int(runs),
    "figures": figures,
}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
log "wrote $out"
