#!/usr/bin/env bash
# fleet_host_test.sh BUILD_DIR
#
# A fleet host as an operator sets one up from the packages: in a Debian 12 container with systemd
# as PID 1 and the host's /dev/kmsg (tests/containers/systemd-host.sh, no network), the three
# packages are installed with `apt-get install ./x.deb`, the collector is given an enrollment
# secret and an API token and the agent that secret, and then:
#   * both units are active (Type=notify: READY=1 came), each daemon runs as its own user, the
#     agent with exactly CAP_SYSLOG and CAP_SYS_RESOURCE and the journal and deploy groups, the
#     collector with no capability;
#   * the agent's kmsg and journal sources start (not degraded), and it enrolls and ships: a unit
#     that fails in the container reaches the collector as unit.failed, and a unit's memory-cgroup
#     OOM kill as oom.kill (read from /dev/kmsg) and unit.failed marked oom_killed;
#   * a deploy user in octolaunch-deploy records a hook, credited at the collector to its uid; a
#     user outside it sees the loss and the fix on stderr, with the command's exit status;
#   * `systemctl reload` applies a changed [log] level without a restart;
#   * the daemons' lines carry journald priorities (a refused reload is at err, info lines are not
#     under -p warning);
#   * a typo'd section in collector.toml fails the start at ExecStartPre, and the journal names
#     the file and the line.
# packages_test.sh covers install, upgrade, remove and purge themselves. Needs root and podman:
# exits 77 (ctest: skipped) without them, and fails instead with CI=true.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
begin_test fleet "${1:?usage: fleet_host_test.sh BUILD_DIR}"

version=$(project_version)
step "cpack: $version"
build_debs "$version"
start_host "$version"

step "apt-get install ./octolaunch-{agent,collector,cli}.deb"
apt_in_host install "$(debs "$version" octolaunch-agent octolaunch-collector octolaunch-cli)"
for unit in octolaunch-agent octolaunch-collector; do
  wait_state "$unit" active
  expect "$unit is Type=notify" "[ \"\$(systemctl show -p Type --value $unit)\" = notify ]"
done

# --- configuration as a fleet has it --------------------------------------------------------------
enrollment=fleet-enrollment-secret-$RANDOM$RANDOM$RANDOM
api_token=fleet-read-token-$RANDOM$RANDOM$RANDOM
step "enrollment secret and API token; restart both"
in_host_script <<EOF
sed -i 's/^tokens = \[\]\$/tokens = ["$enrollment"]/' /etc/octolaunch/collector.toml
sed -i '/^\[http\]\$/a tokens = [{ token = "$api_token", scope = "read" }]' /etc/octolaunch/collector.toml
sed -i 's/^# token = ""\$/token = "$enrollment"/' /etc/octolaunch/agent.toml
grep -q '^tokens = \["$enrollment"\]' /etc/octolaunch/collector.toml
grep -q '^tokens = \[{ token = "$api_token"' /etc/octolaunch/collector.toml
grep -q '^token = "$enrollment"' /etc/octolaunch/agent.toml
octolaunch-collector --check-config
octolaunch-agent run --check-config
systemctl restart octolaunch-collector
systemctl restart octolaunch-agent
EOF
for unit in octolaunch-agent octolaunch-collector; do wait_state "$unit" active; done
octolaunch() { in_host "octolaunch --token $api_token $*"; }

# --- who the daemons run as ---------------------------------------------------------------------
step "the agent runs as octolaunch-agent with CAP_SYSLOG and CAP_SYS_RESOURCE only"
main_pid() { in_host "systemctl show -p MainPID --value $1"; }
# status_field PID FIELD: a line of /proc/PID/status without its name ("Uid:	997	997	997	997").
status_field() { in_host "sed -n 's/^$2:[[:space:]]*//p' /proc/$1/status" | tr -s '[:space:]' ' '; }
agent_pid=$(main_pid octolaunch-agent)
[ "$agent_pid" -gt 0 ] || fail "the agent has no main process"
agent_uid=$(in_host "id -u octolaunch-agent")
[ "$(status_field "$agent_pid" Uid)" = "$agent_uid $agent_uid $agent_uid $agent_uid " ] ||
  fail "the agent's uids are $(status_field "$agent_pid" Uid), not $agent_uid"
# CAP_SYS_RESOURCE is bit 24, CAP_SYSLOG bit 34 (linux/capability.h); the agent has those of
# them the container itself may hold (root on the lab machines lacks CAP_SYS_RESOURCE).
container_caps=$((16#$(status_field 1 CapBnd | tr -d ' ')))
agent_caps=$(printf '%016x' $((((1 << 24) | (1 << 34)) & container_caps)))
((container_caps & (1 << 24))) ||
  echo "   note: this container has no CAP_SYS_RESOURCE to grant; expecting CAP_SYSLOG alone"
for set in CapEff CapPrm CapBnd CapAmb; do
  [ "$(status_field "$agent_pid" $set)" = "$agent_caps " ] ||
    fail "the agent's $set is $(status_field "$agent_pid" $set), expected $agent_caps"
done
groups=" $(status_field "$agent_pid" Groups)"
for group in systemd-journal octolaunch-deploy; do
  gid=$(in_host "getent group $group | cut -d: -f3")
  case "$groups" in *" $gid "*) ;; *) fail "the agent is not in group $group ($gid): $groups" ;; esac
done
expect "the agent has /dev/kmsg open" "ls -l /proc/$agent_pid/fd | grep -q ' -> /dev/kmsg\$'"

step "the collector runs as octolaunch-collector with no capability"
collector_pid=$(main_pid octolaunch-collector)
[ "$collector_pid" -gt 0 ] || fail "the collector has no main process"
collector_uid=$(in_host "id -u octolaunch-collector")
[ "$(status_field "$collector_pid" Uid)" = \
  "$collector_uid $collector_uid $collector_uid $collector_uid " ] ||
  fail "the collector's uids are $(status_field "$collector_pid" Uid), not $collector_uid"
for set in CapEff CapPrm CapAmb; do
  [ "$(status_field "$collector_pid" $set)" = "0000000000000000 " ] ||
    fail "the collector's $set is $(status_field "$collector_pid" $set)"
done

# --- the agent's sources ------------------------------------------------------------------------
step "the kmsg and journal sources run, none degraded"
invocation=$(in_host "systemctl show -p InvocationID --value octolaunch-agent")
agent_log() { in_host "journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$invocation"; }
poll "the agent's sources started" 30 \
  "journalctl -o cat _SYSTEMD_INVOCATION_ID=$invocation | grep -q 'sources: running:'"
agent_log >"$work/agent.log"
running=$(sed -n 's/.*sources: running: //p' "$work/agent.log" | tail -1)
for source in kmsg journal; do
  case ", $running," in *", $source,"*) ;; *) cat "$work/agent.log" >&2; fail "source $source is not running: $running" ;; esac
done
grep -q 'sources: kmsg: reading /dev/kmsg' "$work/agent.log" ||
  { cat "$work/agent.log" >&2; fail "the kmsg source does not read /dev/kmsg"; }
grep -q 'sources: journal: following the system journal' "$work/agent.log" ||
  { cat "$work/agent.log" >&2; fail "the journal source does not follow the system journal"; }
if grep -E 'sources: (kmsg|journal): .*(cannot|source off|failed)' "$work/agent.log" >&2; then
  fail "a source of the agent is degraded"
fi

# --- shipping: a failed unit at the collector ---------------------------------------------------
step "a unit that fails in the container reaches the collector as unit.failed"
# fail_unit NAME [SERVICE SETTINGS...]: starts unit NAME (Type=simple with those settings) and
# waits until it has failed.
fail_unit() {
  local unit=$1
  shift
  printf '[Service]\nType=simple\n' >"$work/$unit"
  printf '%s\n' "$@" >>"$work/$unit"
  in_host "cp /debs/$unit /etc/systemd/system/ && systemctl daemon-reload && systemctl start $unit"
  wait_state "$unit" failed
}
fail_unit octolaunch-test-fails.service "ExecStart=/bin/sh -c 'echo about to fail; exit 3'"
# Enrollment, the journal source and a push: 60 s is ample (seen: a few seconds).
poll "unit.failed of octolaunch-test-fails.service at the collector" 60 \
  "octolaunch --token $api_token events --kind unit.failed --json |
   grep -q '\"unit\": \"octolaunch-test-fails.service\"'"
octolaunch "events --kind unit.failed --json" >"$work/unit-failed.json"
grep -q "\"host\": \"$name\"" "$work/unit-failed.json" ||
  { cat "$work/unit-failed.json" >&2; fail "unit.failed does not carry the host $name"; }
grep -q '"exit_status": 3' "$work/unit-failed.json" ||
  { cat "$work/unit-failed.json" >&2; fail "unit.failed does not carry exit status 3"; }

step "a kernel OOM kill in a unit reaches the collector (the agent reads /dev/kmsg)"
# A real memory-cgroup OOM kill: its kernel line is read from /dev/kmsg, which the container
# shares with the machine (ctest: RESOURCE_LOCK host_kernel).
fail_unit octolaunch-test-oom.service MemoryMax=32M \
  "ExecStart=/usr/bin/python3 -c 'x = b\"x\" * (512 << 20)'"
poll "oom.kill of the unit's python3 at the collector" 60 \
  "octolaunch --token $api_token events --kind oom.kill --host $name --json |
   grep -q '\"process\": \"python3\"'"
poll "unit.failed of octolaunch-test-oom.service, marked oom_killed" 60 \
  "octolaunch --token $api_token events --kind unit.failed --json | tr -d ' \n' |
   grep -q '\"oom_killed\":true,[^}]*\"unit\":\"octolaunch-test-oom.service\"'"

# --- deploy users --------------------------------------------------------------------------------
step "a deploy user in octolaunch-deploy records a hook, credited to its uid"
in_host "systemd-sysusers --inline 'u deployer - \"deploy jobs\"' 'm deployer octolaunch-deploy' \
  'u outsider - \"not a deploy user\"'"
deployer_uid=$(in_host "id -u deployer")
# hook_as USER RELEASE: runs `sh -c 'echo hi; exit 3'` under `octolaunch-agent hook` as USER, which
# must pass the command's output and exit status through; its stderr is left in $work/USER.err.
hook_as() {
  local user=$1 release=$2 out status=0
  out=$(in_host "runuser -u $user -- octolaunch-agent hook --release $release --service web -- \
    sh -c 'echo hi; exit 3'" 2>"$work/$user.err") || status=$?
  [ "$status" -eq 3 ] || { cat "$work/$user.err" >&2; fail "hook as $user exited $status, not 3"; }
  [ "$out" = hi ] || fail "hook as $user printed '$out', not the command's 'hi'"
}
hook_as deployer fleet-r1
if grep -q 'NOT recorded' "$work/deployer.err"; then
  cat "$work/deployer.err" >&2
  fail "a member of octolaunch-deploy could not hand over its records"
fi
poll "hook.exit of fleet-r1 at the collector" 60 \
  "octolaunch --token $api_token events --kind hook.exit --release fleet-r1 --json |
   grep -q '\"exit_code\": 3'"
octolaunch "events --kind hook.exit --release fleet-r1 --json" >"$work/hook-exit.json"
grep -Eq "\"uid\": $deployer_uid,?\$" "$work/hook-exit.json" && grep -q '"user": "deployer"' \
  "$work/hook-exit.json" ||
  { cat "$work/hook-exit.json" >&2; fail "hook.exit is not credited to deployer (uid $deployer_uid)"; }

step "a user outside octolaunch-deploy: the command runs, the loss and the fix on stderr"
hook_as outsider fleet-r2
grep -q 'add outsider to group octolaunch-deploy' "$work/outsider.err" ||
  { cat "$work/outsider.err" >&2; fail "no warning with the fix on stderr"; }
expect "the loss is in the journal for an operator" \
  "journalctl --no-pager -t octolaunch-agent -p warning | grep -q 'add outsider to group'"

# --- reload --------------------------------------------------------------------------------------
step "systemctl reload applies [log] level without a restart"
in_host "sed -i 's/^# level = \"info\"\$/level = \"debug\"/' /etc/octolaunch/agent.toml"
in_host "sed -i 's/^level = \"info\"\$/level = \"debug\"/' /etc/octolaunch/collector.toml"
for unit in octolaunch-agent octolaunch-collector; do
  pid=$(main_pid $unit)
  expect "systemctl reload $unit" "systemctl reload $unit"
  inv=$(in_host "systemctl show -p InvocationID --value $unit")
  poll "$unit applies the reloaded level" 15 \
    "journalctl -o cat _SYSTEMD_INVOCATION_ID=$inv | grep -q 'reload: \[log\] level is debug'"
  wait_state "$unit" active
  [ "$(main_pid $unit)" = "$pid" ] || fail "reload restarted $unit"
done

# --- journald priorities -------------------------------------------------------------------------
step "the daemons' lines carry journald priorities: journalctl -p tells errors from info"
in_host "printf '[htpp]\nlisten = \"127.0.0.1:7702\"\n' >>/etc/octolaunch/agent.toml"
inv=$(in_host "systemctl show -p InvocationID --value octolaunch-agent")
expect "systemctl reload octolaunch-agent" "systemctl reload octolaunch-agent"
poll "the agent logs the refused reload at priority err" 15 \
  "journalctl -o cat -p err _SYSTEMD_INVOCATION_ID=$inv | grep -q 'reload: .*htpp: unknown section'"
in_host "sed -i '/^\[htpp\]\$/,\$d' /etc/octolaunch/agent.toml"
for unit in octolaunch-agent octolaunch-collector; do
  inv=$(in_host "systemctl show -p InvocationID --value $unit")
  in_host "journalctl -o cat -p info..info _SYSTEMD_INVOCATION_ID=$inv" |
    grep -q 'reload: \[log\] level is debug' || fail "$unit: its info line is not at priority info"
  if in_host "journalctl -o cat -p warning _SYSTEMD_INVOCATION_ID=$inv" |
    grep -q 'reload: \[log\] level is debug'; then
    fail "$unit: an info line shows under journalctl -p warning"
  fi
  if in_host "journalctl -o cat _SYSTEMD_INVOCATION_ID=$inv" | grep -q '^<[0-7]>'; then
    fail "$unit: a priority prefix reached the journal as text"
  fi
done

# --- a typo in the config ------------------------------------------------------------------------
step "a typo'd section fails the collector's start at ExecStartPre, naming file and line"
line=$(($(in_host "wc -l </etc/octolaunch/collector.toml") + 1))
in_host "printf '[htpp]\nlisten = \"127.0.0.1:7702\"\n' >>/etc/octolaunch/collector.toml"
since=$(in_host "date +%s")
if in_host "systemctl restart octolaunch-collector" 2>/dev/null; then
  fail "the collector started with [htpp] in its config"
fi
in_host "journalctl --no-pager -o cat -u octolaunch-collector --since @$since" >"$work/typo.log"
grep -q "/etc/octolaunch/collector.toml:$line: htpp: unknown section; did you mean \[http\]" \
  "$work/typo.log" || { cat "$work/typo.log" >&2; fail "the journal does not name collector.toml:$line"; }
grep -q 'Control process exited, code=exited, status=1' "$work/typo.log" ||
  { cat "$work/typo.log" >&2; fail "the start did not fail in ExecStartPre"; }
if grep -q 'Main process exited' "$work/typo.log"; then
  cat "$work/typo.log" >&2
  fail "the collector itself was started despite the typo"
fi
in_host "sed -i '/^\[htpp\]\$/,\$d' /etc/octolaunch/collector.toml"
in_host "systemctl reset-failed octolaunch-collector; systemctl restart octolaunch-collector"
wait_state octolaunch-collector active

step "ok"
