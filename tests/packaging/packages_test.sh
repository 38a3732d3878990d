#!/usr/bin/env bash
# packages_test.sh BUILD_DIR
#
# The Debian packages as an operator meets them. Builds them from BUILD_DIR with cpack (twice: the
# project version, then a bumped one for the upgrade), runs lintian (no errors), and in a Debian 12
# container with systemd as PID 1 (tests/containers/systemd-host.sh, no network):
#   * `apt-get install ./*.deb` creates the users, the state directories and the config's mode,
#     enables both units and they reach active; `systemd-analyze verify` passes on both units;
#   * an upgrade keeps an edited config and restarts both daemons;
#   * remove stops them and keeps the config and the data; purge deletes both.
# Needs root and podman: exits 77 (ctest: skipped) without them, and fails instead with CI=true.
set -euo pipefail

build_dir=$(cd "${1:?usage: packages_test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
containers=$here/../containers
name=octolaunch-packages-$$
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
unavailable() {
  if [ "${CI:-}" = true ]; then fail "CI must run this test, but: $*"; fi
  printf 'SKIP: %s\n' "$*"
  exit 77
}

[ "$(id -u)" -eq 0 ] || unavailable "needs root (rootful podman)"
command -v podman >/dev/null || unavailable "podman is not installed"
command -v cpack >/dev/null || fail "cpack not found"

work=$(mktemp -d /var/tmp/octolaunch-packages.XXXXXX)
cleanup() {
  podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build_dir/CPackConfig.cmake"
upgrade=$version+1

# --- build and lint -----------------------------------------------------------------------------
step "cpack: $version and $upgrade"
for v in "$version" "$upgrade"; do
  (cd "$build_dir" && cpack -G DEB --config CPackConfig.cmake -B "$work/$v" \
    -D CPACK_PACKAGE_VERSION="$v" >"$work/cpack-$v.log" 2>&1) ||
    { cat "$work/cpack-$v.log" >&2; fail "cpack failed for $v"; }
  rm -rf "$work/$v/_CPack_Packages"
done
arch=$(dpkg --print-architecture)
for p in octolaunch-agent octolaunch-collector octolaunch-cli; do
  for v in "$version" "$upgrade"; do
    [ -f "$work/$v/${p}_${v}_${arch}.deb" ] || fail "cpack made no ${p}_${v}_${arch}.deb"
  done
done
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
# The packages' dependencies are preinstalled in the image: the container has no network, and
# apt-get then installs the .deb files alone.
deps=$(for deb in "$work/$version"/*.deb; do dpkg-deb -f "$deb" Depends; done |
  tr ',' '\n' | sed -e 's/(.*)//' -e 's/|.*//' -e 's/ //g' | grep -v '^octolaunch' | sort -u |
  paste -sd, -)
# man-db: `systemd-analyze verify` runs man for each unit's Documentation=man:… page.
deps+=,man-db
step "systemd host (image with: $deps)"
OCTOLAUNCH_SDHOST_PACKAGES=$deps OCTOLAUNCH_SDHOST_KMSG=none \
  bash "$containers/systemd-host.sh" "$name" -v "$work:/debs:ro" >/dev/null

in_host() { podman exec "$name" sh -c "$*"; }
# Polls (up to 30 s) until `systemctl is-active UNIT` prints STATE.
wait_state() {
  local unit=$1 want=$2 state=
  for _ in $(seq 120); do
    state=$(in_host "systemctl is-active $unit" || true)
    [ "$state" = "$want" ] && return 0
    sleep 0.25
  done
  in_host "systemctl status --no-pager $unit; journalctl --no-pager -n 30 -u $unit" >&2 || true
  fail "$unit is $state, expected $want"
}
expect() {  # DESCRIPTION COMMAND: the command must succeed in the container
  in_host "$2" >/dev/null || fail "$1 ($2)"
}
apt_install() {
  in_host "DEBIAN_FRONTEND=noninteractive apt-get install -y -q $*" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install $*"; }
}
debs() { local v=$1; shift; printf "/debs/$v/%s_${v}_$arch.deb " "$@"; }

step "install $version"
apt_install "$(debs "$version" octolaunch-cli octolaunch-agent octolaunch-collector)"
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

# The daemons' data lands in the packages' state directories.
wait_file() {
  for _ in $(seq 120); do in_host "[ -e $1 ]" && return 0; sleep 0.25; done
  fail "$1 never appeared"
}
wait_file /var/lib/octolaunch-agent/spool/data.mdb
wait_file /var/lib/octolaunch-collector/data.mdb

step "upgrade to $upgrade keeps an edited config and restarts the daemons"
in_host "echo '# edited by packages_test' >>/etc/octolaunch/agent.toml"
in_host "echo '# edited by packages_test' >>/etc/octolaunch/collector.toml"
invocation() { in_host "systemctl show -p InvocationID --value $1"; }
agent_before=$(invocation octolaunch-agent)
collector_before=$(invocation octolaunch-collector)
apt_install "$(debs "$upgrade" octolaunch-cli octolaunch-agent octolaunch-collector)"
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
in_host "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q octolaunch-agent octolaunch-collector" \
  >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get remove"; }
for unit in octolaunch-agent octolaunch-collector; do
  state=$(in_host "systemctl is-active $unit" || true)
  [ "$state" != active ] || fail "$unit still active after remove"
done
expect "agent spool kept" "[ -e /var/lib/octolaunch-agent/spool/data.mdb ]"
expect "collector store kept" "[ -e /var/lib/octolaunch-collector/data.mdb ]"
expect "edited config kept" "grep -q 'edited by packages_test' /etc/octolaunch/agent.toml"
expect "the CLI stays" "octolaunch --version"

step "purge deletes config and data"
in_host "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q octolaunch-agent octolaunch-collector" \
  >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get purge"; }
expect "agent state deleted" "[ ! -e /var/lib/octolaunch-agent ]"
expect "collector state deleted" "[ ! -e /var/lib/octolaunch-collector ]"
expect "configs deleted" "[ ! -e /etc/octolaunch/agent.toml ] && [ ! -e /etc/octolaunch/collector.toml ]"
expect "no statoverride left" "! dpkg-statoverride --list | grep -q octolaunch"
expect "no unit left enabled" "[ ! -e /etc/systemd/system/multi-user.target.wants/octolaunch-agent.service ]"

step "ok"
