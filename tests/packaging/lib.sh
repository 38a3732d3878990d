# lib.sh: what the packaging tests share (sourced, not run). A test calls begin_test, then
# build_debs and start_host, then drives the container with in_host, poll, expect, wait_state.
#
# Every failure (fail) prints the container's recent journal, so a CI log shows why a unit did not
# start. With CI=true a test that cannot run fails instead of skipping (exit 77).

packaging_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
containers=$packaging_dir/../containers
arch=$(dpkg --print-architecture)

step() { printf '== %s\n' "$*"; }

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  if [ -n "${name:-}" ] && podman container exists "$name" 2>/dev/null; then
    printf -- '--- the container journal (last 80 lines)\n' >&2
    podman exec "$name" journalctl --no-pager -n 80 >&2 2>&1 || true
  fi
  exit 1
}

unavailable() {
  if [ "${CI:-}" = true ]; then fail "CI must run this test, but: $*"; fi
  printf 'SKIP: %s\n' "$*"
  exit 77
}

# begin_test NAME BUILD_DIR: checks that the test can run, and sets build_dir, name (the
# container, removed on exit) and work (a scratch directory, deleted on exit; mounted read-only at
# /debs in the container).
begin_test() {
  build_dir=$(cd "$2" && pwd)
  name=octolaunch-$1-$$
  [ "$(id -u)" -eq 0 ] || unavailable "needs root (rootful podman)"
  command -v podman >/dev/null || unavailable "podman is not installed"
  command -v cpack >/dev/null || fail "cpack not found"
  work=$(mktemp -d "/var/tmp/octolaunch-$1.XXXXXX")
  trap end_test EXIT
}

end_test() {
  podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}

# The project version the build directory packages.
project_version() {
  local v
  v=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
  [ -n "$v" ] || fail "no CPACK_PACKAGE_VERSION in $build_dir/CPackConfig.cmake"
  echo "$v"
}

# build_debs VERSION: the three packages of VERSION in $work/VERSION/.
build_debs() {
  local v=$1 p
  (cd "$build_dir" && cpack -G DEB --config CPackConfig.cmake -B "$work/$v" \
    -D CPACK_PACKAGE_VERSION="$v" >"$work/cpack-$v.log" 2>&1) ||
    { cat "$work/cpack-$v.log" >&2; fail "cpack failed for $v"; }
  rm -rf "$work/$v/_CPack_Packages"
  for p in octolaunch-agent octolaunch-collector octolaunch-cli; do
    [ -f "$work/$v/${p}_${v}_${arch}.deb" ] || fail "cpack made no ${p}_${v}_${arch}.deb"
  done
}

# start_host VERSION [podman-run options]: the systemd container `name` with $work at /debs.
# The packages' dependencies are preinstalled in the image (the container has no network, so
# apt-get installs the .deb files alone), and man-db, which `systemd-analyze verify` runs for
# each unit's Documentation=man: page. Every packaging test asks for the same list, so they share
# one image. OCTOLAUNCH_SDHOST_KMSG passes through (systemd-host.sh).
start_host() {
  local v=$1 deps
  shift
  deps=$(for deb in "$work/$v"/*.deb; do dpkg-deb -f "$deb" Depends; done |
    tr ',' '\n' | sed -e 's/(.*)//' -e 's/|.*//' -e 's/ //g' | grep -v '^octolaunch' | sort -u |
    paste -sd, -)
  deps+=,man-db
  step "systemd host (image with: $deps)"
  local started=$SECONDS
  OCTOLAUNCH_SDHOST_PACKAGES=$deps bash "$containers/systemd-host.sh" "$name" \
    -v "$work:/debs:ro" "$@" >/dev/null || fail "the systemd container did not boot"
  printf '   booted in %d s (includes building the image when it is new)\n' $((SECONDS - started))
}

in_host() { podman exec "$name" sh -c "$*"; }
# A script on standard input, run by sh -eu in the container.
in_host_script() { podman exec -i "$name" sh -eu; }

expect() {  # DESCRIPTION COMMAND: the command must succeed in the container
  in_host "$2" >/dev/null || fail "$1 ($2)"
}

# poll DESCRIPTION SECONDS COMMAND: until the command succeeds in the container, every 0.25 s.
poll() {
  local what=$1 seconds=$2 command=$3 i
  for ((i = 0; i < seconds * 4; i++)); do
    in_host "$command" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  fail "$what: not within $seconds s ($command)"
}

# Polls (up to 30 s) until `systemctl is-active UNIT` prints STATE.
wait_state() {
  local unit=$1 want=$2 state= i
  for ((i = 0; i < 120; i++)); do
    state=$(in_host "systemctl is-active $unit" || true)
    [ "$state" = "$want" ] && return 0
    sleep 0.25
  done
  in_host "systemctl status --no-pager $unit" >&2 || true
  fail "$unit is $state, expected $want"
}

apt_in_host() {  # apt-get ARGS... in the container, its output shown only on failure
  in_host "cd /debs && DEBIAN_FRONTEND=noninteractive apt-get -y -q $*" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get $*"; }
}

# debs VERSION PACKAGE...: the packages' .deb paths as apt-get takes them (./ relative to /debs).
debs() { local v=$1; shift; printf "./$v/%s_${v}_$arch.deb " "$@"; }
