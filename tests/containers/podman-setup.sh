#!/usr/bin/env bash
# podman-setup.sh: makes rootful podman run real containers for OctoLaunch's tests on the machines
# we test on (Debian 12: podman 4.3.1, crun, conmon 2.1.6; PID 1 is not systemd; cgroup v1 with a
# nearly empty cgroup2 at /sys/fs/cgroup/unified; root without CAP_SYS_RESOURCE) and imports the
# offline busybox image the container tests run (localhost/bb:1).
#
# Root only. Idempotent: changes only what differs, so it is cheap to run before every test run.
# Exit 0 when podman is ready; otherwise prints why on stderr and exits 1.
# Env: OCTOLAUNCH_PODMAN_RUNTIME=crun (default) or runc.
set -euo pipefail

say() { echo "podman-setup: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "must run as root (rootful podman)"; exit 1; }
runtime=${OCTOLAUNCH_PODMAN_RUNTIME:-crun}
case "$runtime" in crun | runc) ;; *) say "OCTOLAUNCH_PODMAN_RUNTIME must be crun or runc"; exit 1 ;; esac

# Replaces file $1 with stdin only when the content differs, atomically (a podman started by a
# concurrent test never reads a half-written file).
install_file() {
  local target=$1 mode=$2 tmp
  tmp=$(mktemp "$target.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if cmp -s "$tmp" "$target"; then rm -f "$tmp"; else mv -f "$tmp" "$target"; fi
}

# --- packages ------------------------------------------------------------------------------------
wanted=(podman busybox-static)
[ "$runtime" = runc ] && wanted+=(runc)
absent=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || absent+=("$p")
done
if [ ${#absent[@]} -gt 0 ]; then
  say "installing ${absent[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null
fi

# --- cgroups: crun and the hybrid layout ----------------------------------------------------------
# crun will not run on a hybrid host while the cgroup2 hierarchy still holds a controller. Here the
# one it holds is hugetlb (every other controller is mounted as v1), so give hugetlb a v1 mount too.
# (runc does not mind.) A mount does not survive a reboot, hence checking on every run.
unified=/sys/fs/cgroup/unified/cgroup.controllers
if [ "$runtime" = crun ] && [ -r "$unified" ]; then
  if grep -qw hugetlb "$unified"; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mountpoint -q /sys/fs/cgroup/hugetlb || mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  fi
  left=$(tr -d ' \n' <"$unified")
  if [ -n "$left" ]; then
    say "cgroup2 still holds controllers ($left) that crun refuses; try OCTOLAUNCH_PODMAN_RUNTIME=runc"
    exit 1
  fi
fi

# --- conmon: find the OOM marker -------------------------------------------------------------------
# conmon 2.1.6 drops its "oom" marker file into its working directory, while podman 4.3.1 looks for
# it in the container's bundle directory; so State.OOMKilled stays false after a real OOM kill. The
# wrapper starts conmon in the bundle directory (the argument after -b/--bundle).
mkdir -p /usr/local/libexec/octolaunch
install_file /usr/local/libexec/octolaunch/conmon 755 <<'WRAPPER'
#!/bin/sh
# conmon started in its bundle directory, where podman looks for the "oom" marker it writes.
expect_bundle=0
for arg in "$@"; do
  if [ "$expect_bundle" = 1 ]; then cd "$arg" 2>/dev/null || true; break; fi
  case "$arg" in -b | --bundle) expect_bundle=1 ;; esac
done
exec /usr/bin/conmon "$@"
WRAPPER

# --- containers.conf ------------------------------------------------------------------------------
# Root here may not raise a hard rlimit, and podman's default nofile=1048576 is above ours, so
# every container start fails with EPERM. Ask only for what this shell's hard limits allow; podman
# also caps its own nproc at kernel.pid_max, so the container's nproc may not exceed that either.
pid_max=$(cat /proc/sys/kernel/pid_max)
hard_nofile=$(ulimit -Hn)
hard_nproc=$(ulimit -Hu)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
[ "$hard_nproc" = unlimited ] && hard_nproc=$pid_max
nofile=$((hard_nofile < 1048576 ? hard_nofile : 1048576))
nproc=$((hard_nproc < pid_max ? hard_nproc : pid_max))
mkdir -p /etc/containers
install_file /etc/containers/containers.conf 644 <<CONF
# Written by OctoLaunch's tests/containers/podman-setup.sh.
[containers]
# Within the hard limits root has here (it cannot raise them).
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
# No network unless a test asks for one: faster starts, no NAT to the outside.
netns = "none"

[engine]
runtime = "${runtime}"
# PID 1 is not systemd: podman manages the cgroups itself.
cgroup_manager = "cgroupfs"
events_logger = "file"
conmon_path = ["/usr/local/libexec/octolaunch/conmon", "/usr/bin/conmon"]
CONF

# --- the busybox image ----------------------------------------------------------------------------
# No registry is reachable: build a busybox root and import it. Enough for exit codes, OOM kills
# (busybox dd) and missing executables.
if ! podman image exists localhost/bb:1; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/root/bin"
  cp /bin/busybox "$work/root/bin/busybox"
  for applet in sh echo false true sleep cat; do ln -s busybox "$work/root/bin/$applet"; done
  tar -C "$work/root" -cf "$work/busybox.tar" .
  podman import "$work/busybox.tar" localhost/bb:1 >/dev/null
fi

# --- smoke test -----------------------------------------------------------------------------------
if ! out=$(podman run --rm localhost/bb:1 /bin/echo ready 2>&1) || [ "$out" != ready ]; then
  say "podman cannot run a container: $out"
  exit 1
fi
echo "podman ready: runtime=$runtime nofile=$nofile nproc=$nproc"
