#!/usr/bin/env bash
# packages_test.sh BUILD_DIR
#
# The Debian packages as an operator meets them. Builds them from BUILD_DIR with cpack (twice: the
# project version, then a bumped one for the upgrade), runs lintian (no errors), and in a Debian 12
# container with systemd as PID 1 (tests/containers/systemd-host.sh, no network):
#   * `apt-get install ./*.deb` creates the users, the state directories and the config's mode,
#     enables both units and they reach active; `systemd-analyze verify` passes on both units and
#     `systemd-analyze security` rates them within the aims (agent 4.5, collector 2.5);
#   * an upgrade keeps an edited config and restarts both daemons;
#   * remove stops them and keeps the config and the data; purge deletes both.
# Needs root and podman: exits 77 (ctest: skipped) without them, and fails instead with CI=true.
# fleet_host_test.sh runs the installed daemons as a fleet host (sources, shipping, deploy users).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
begin_test packages "${1:?usage: packages_test.sh BUILD_DIR}"

version=$(project_version)
upgrade=$version+1

# --- build and lint -----------------------------------------------------------------------------
step "cpack: $version and $upgrade"
for v in "$version" "$upgrade"; do build_debs "$v"; done
ls -l "$work/$version"

if command -v lintian >/dev/null; then
  step "lintian"
  # Root is fine here: lintian only reads the packages.
  lintian --fail-on error --allow-root "$work/$version"/*.deb || fail "lintian found errors"
elif [ "${CI:-}" = true ]; then
  fail "lintian is not installed (scripts/install-deps.sh installs it)"
else
  step "lintian: not installed, skipped"
fi

# --- the container ------------------------------------------------------------------------------
# No kernel lines in its journal: this test reads none (fleet_host_test.sh does).
OCTOLAUNCH_SDHOST_KMSG=none start_host "$version"

step "install $version"
apt_in_host install "$(debs "$version" octolaunch-cli octolaunch-agent octolaunch-collector)"
for user in octolaunch-agent octolaunch-collector; do
  expect "system user $user" "getent passwd $user | grep -q ':/usr/sbin/nologin\$'"
done
expect "group octolaunch-deploy" "getent group octolaunch-deploy"
expect "agent state dir" "[ \"\$(stat -c '%U %a' /var/lib/octolaunch-agent)\" = 'octolaunch-agent 711' ]"
expect "collector state dir" \
  "[ \"\$(stat -c '%U %a' /var/lib/octolaunch-collector)\" = 'octolaunch-collector 700' ]"
expect "agent config 0640 root:octolaunch-agent" \
  "[ \"\$(stat -c '%U:%G %a' /etc/octolaunch/agent.toml)\" = 'root:octolaunch-agent 640' ]"
expect "collector config 0640 root:octolaunch-collector" \
  "[ \"\$(stat -c '%U:%G %a' /etc/octolaunch/collector.toml)\" = 'root:octolaunch-collector 640' ]"
expect "man pages" "for p in octolaunch octolaunch-agent octolaunch-collector; do
  gzip -t /usr/share/man/man1/\$p.1.gz || exit 1; done"
expect "bash completion" "[ -f /usr/share/bash-completion/completions/octolaunch ] &&
  [ -f /usr/share/bash-completion/completions/octolaunch-agent ]"
expect "octolaunch --version" "octolaunch --version | grep -qF '$version'"

step "units enabled and active"
for unit in octolaunch-agent octolaunch-collector; do
  expect "$unit enabled" "systemctl is-enabled $unit"
  wait_state "$unit" active
done

step "systemd-analyze verify"
in_host "systemd-analyze verify /lib/systemd/system/octolaunch-agent.service \
  /lib/systemd/system/octolaunch-collector.service" 2>&1 | tee "$work/verify.log" ||
  fail "systemd-analyze verify failed"
if grep -q 'octolaunch' "$work/verify.log"; then fail "systemd-analyze verify warns about our units"; fi

step "systemd-analyze security: agent at most 4.5, collector at most 2.5"
for aim in octolaunch-agent:4.5 octolaunch-collector:2.5; do
  unit=${aim%:*}
  exposure=$(in_host "systemd-analyze security --no-pager $unit.service" |
    sed -n "s/.*Overall exposure level for $unit.service: \([0-9.]*\).*/\1/p")
  [ -n "$exposure" ] || fail "systemd-analyze security printed no exposure level for $unit"
  printf '   %s: %s\n' "$unit" "$exposure"
  awk -v e="$exposure" -v max="${aim#*:}" 'BEGIN { exit !(e <= max) }' ||
    fail "$unit is exposed $exposure, above the aim of ${aim#*:}"
done

# The daemons' data lands in the packages' state directories.
poll "the agent's spool" 30 "[ -e /var/lib/octolaunch-agent/spool/data.mdb ]"
poll "the collector's store" 30 "[ -e /var/lib/octolaunch-collector/data.mdb ]"

step "upgrade to $upgrade keeps an edited config and restarts the daemons"
in_host "echo '# edited by packages_test' >>/etc/octolaunch/agent.toml"
in_host "echo '# edited by packages_test' >>/etc/octolaunch/collector.toml"
invocation() { in_host "systemctl show -p InvocationID --value $1"; }
agent_before=$(invocation octolaunch-agent)
collector_before=$(invocation octolaunch-collector)
apt_in_host install "$(debs "$upgrade" octolaunch-cli octolaunch-agent octolaunch-collector)"
for p in octolaunch-agent octolaunch-collector octolaunch-cli; do
  expect "$p is $upgrade" "[ \"\$(dpkg-query -W -f '\${Version}' $p)\" = '$upgrade' ]"
done
for f in agent collector; do
  expect "edited $f.toml kept" "tail -1 /etc/octolaunch/$f.toml | grep -q 'edited by packages_test'"
done
expect "agent config mode kept" \
  "[ \"\$(stat -c '%U:%G %a' /etc/octolaunch/agent.toml)\" = 'root:octolaunch-agent 640' ]"
for unit in octolaunch-agent octolaunch-collector; do wait_state "$unit" active; done
[ "$(invocation octolaunch-agent)" != "$agent_before" ] || fail "the upgrade did not restart the agent"
[ "$(invocation octolaunch-collector)" != "$collector_before" ] ||
  fail "the upgrade did not restart the collector"

step "remove stops the daemons, keeps config and data"
apt_in_host remove octolaunch-agent octolaunch-collector
for unit in octolaunch-agent octolaunch-collector; do
  state=$(in_host "systemctl is-active $unit" || true)
  [ "$state" != active ] || fail "$unit still active after remove"
done
expect "agent spool kept" "[ -e /var/lib/octolaunch-agent/spool/data.mdb ]"
expect "collector store kept" "[ -e /var/lib/octolaunch-collector/data.mdb ]"
expect "edited config kept" "grep -q 'edited by packages_test' /etc/octolaunch/agent.toml"
expect "the CLI stays" "octolaunch --version"

step "purge deletes config and data"
apt_in_host purge octolaunch-agent octolaunch-collector
expect "agent state deleted" "[ ! -e /var/lib/octolaunch-agent ]"
expect "collector state deleted" "[ ! -e /var/lib/octolaunch-collector ]"
expect "configs deleted" "[ ! -e /etc/octolaunch/agent.toml ] && [ ! -e /etc/octolaunch/collector.toml ]"
expect "no statoverride left" "! dpkg-statoverride --list | grep -q octolaunch"
expect "no unit left enabled" "[ ! -e /etc/systemd/system/multi-user.target.wants/octolaunch-agent.service ]"

step "ok"
