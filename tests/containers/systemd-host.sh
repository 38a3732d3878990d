#!/usr/bin/env bash
# systemd-host.sh NAME [podman-run options...]
#
# Starts container NAME as a small Debian 12 host: systemd 252 as PID 1 with journald, in rootful
# podman, on the machines we test on (cgroup v1, PID 1 not systemd). Tests use it for what a host
# without systemd cannot show: real unit failures in a real journal, the agent reading a system
# journal, the packages installed and run as on a VM. Prints the systemd state (running or
# degraded) once boot has finished; exits 1 with the container's last log lines otherwise.
# Stop it with `podman stop NAME` (a clean shutdown), then `podman rm NAME`.
#
# The image is built on first use (a minimal Debian rootfs by mmdebstrap, about 20 s and 240 MB,
# plus the files in systemd-host/) and rebuilt whenever those files change; later starts take
# about a second. Root only; runs podman-setup.sh first.
#
# Env:
#   OCTOLAUNCH_SDHOST_NET       podman --network (default none; host shares this machine's
#                               loopback, bridge reaches the Debian mirror)
#   OCTOLAUNCH_SDHOST_KMSG      kernel lines in the container's journal: new (default, only those
#                               logged after it booted), all (the host's whole ring buffer), none
#   OCTOLAUNCH_SDHOST_PACKAGES  extra Debian packages for the image, comma-separated
#   OCTOLAUNCH_SDHOST_MIRROR    Debian mirror (default: the first one in this host's apt sources)
set -euo pipefail

name=${1:?usage: systemd-host.sh NAME [podman-run options...]}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf 'systemd-host %s: %s\n' "$name" "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "must run as root (rootful podman)"; exit 1; }

bash "$here/podman-setup.sh" >/dev/null

suite=bookworm
packages="systemd,systemd-sysv,dbus,procps,python3-minimal,busybox,iproute2"
packages+=${OCTOLAUNCH_SDHOST_PACKAGES:+,$OCTOLAUNCH_SDHOST_PACKAGES}
state_dir=/var/tmp/octolaunch-systemd-host
# The image is named after what it is made of: changing a file under systemd-host/ or the
# package list gives a new tag, so a stale image is never used.
tag=$( (echo "$suite $packages"; cd "$here/systemd-host" && find . -type f -print0 | sort -z |
  xargs -0 sha256sum) | sha256sum | cut -c1-12)
image=localhost/octolaunch-systemd-host:$tag
base=$state_dir/base-$(echo "$suite $packages" | sha256sum | cut -c1-12)

debian_mirror() {
  if [ -n "${OCTOLAUNCH_SDHOST_MIRROR:-}" ]; then echo "$OCTOLAUNCH_SDHOST_MIRROR"; return; fi
  local uri
  uri=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
           grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
         } | grep -v security | head -1 || true)
  [ -n "$uri" ] || { say "no Debian mirror in the apt sources: set OCTOLAUNCH_SDHOST_MIRROR"; return 1; }
  echo "$uri"
}

build_base() {
  command -v mmdebstrap >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  }
  local mirror
  mirror=$(debian_mirror)
  say "building a $suite rootfs from $mirror"
  rm -rf "$base.tmp"
  mmdebstrap --variant=minbase --mode=root --include="$packages" "$suite" "$base.tmp" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" \
    "deb ${mirror%/debian}/debian-security $suite-security main" >&2
  mv "$base.tmp" "$base"
}

# The base rootfs plus systemd-host/: masks for every unit that would touch the host's kernel
# (the container is privileged), logind and journald settings, the kmsg start point.
build_image() {
  local stage=$state_dir/stage.$$ unit
  rm -rf "$stage"
  cp -a "$base" "$stage"
  cp -a "$here/systemd-host/rootfs/." "$stage/"
  while read -r unit; do
    case "$unit" in '' | '#'*) continue ;; esac
    ln -sfn /dev/null "$stage/etc/systemd/system/$unit"
  done <"$here/systemd-host/masked-units"
  : >"$stage/etc/machine-id"  # systemd makes one at boot
  rm -f "$stage/var/lib/dbus/machine-id"
  echo octolaunch-host >"$stage/etc/hostname"
  tar -C "$stage" --numeric-owner --xattrs -cf - . |
    podman import --change 'CMD ["/lib/systemd/systemd"]' --change ENV=container=podman \
      --change STOPSIGNAL=SIGRTMIN+3 - "$image" >/dev/null
  rm -rf "$stage"
  say "image $image ready"
}

mkdir -p "$state_dir"
if ! podman image exists "$image"; then
  # Two test runs at once build it once.
  exec 9>"$state_dir/build.lock"
  flock 9
  if ! podman image exists "$image"; then
    [ -x "$base/lib/systemd/systemd" ] || build_base
    build_image
  fi
  flock -u 9
fi

if podman container exists "$name" &&
  [ "$(podman inspect -f '{{.State.Running}}' "$name")" != true ]; then
  podman rm -f "$name" >/dev/null
fi
if ! podman container exists "$name"; then
  kmsg=()
  case "${OCTOLAUNCH_SDHOST_KMSG:-new}" in
    new) ;;
    all) kmsg=(-v /dev/null:/etc/systemd/system/octolaunch-kmsg-start.service) ;;
    none) kmsg=(-v /dev/null:/dev/kmsg) ;;
    *) say "OCTOLAUNCH_SDHOST_KMSG must be new, all or none"; exit 2 ;;
  esac
  # --privileged: without it the cgroup v1 controllers are read-only inside, and systemd's
  #   per-unit limits (MemoryMax=) silently do nothing.
  # --cgroupns=private: the v1 hierarchies appear rooted at the container's own cgroup, so
  #   systemd's slices are created inside it.
  # --systemd=false with the systemd settings given by hand (tmpfs mounts, container=podman,
  #   stop signal): podman's systemd mode adds a name=systemd mount that, with a private cgroup
  #   namespace on v1, is rooted at the host's root, and systemd would build its tree there.
  podman run -d --name "$name" --hostname "$name" \
    --privileged --cgroupns=private --systemd=false \
    --network "${OCTOLAUNCH_SDHOST_NET:-none}" \
    --tmpfs /run:rw,nosuid,nodev,mode=755 --tmpfs /run/lock:rw,nosuid,nodev,noexec \
    --tmpfs /tmp:rw,nosuid,nodev \
    -e container=podman --stop-signal SIGRTMIN+3 --stop-timeout 30 \
    "${kmsg[@]}" "$@" "$image" /lib/systemd/systemd >/dev/null
fi

# Boot is over when systemd says running (or degraded: some unit failed). Bounded: 60 s.
state=unknown
for _ in $(seq 240); do
  state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running | degraded) break ;; esac
  sleep 0.25
done
case "$state" in
  running | degraded) echo "$state" ;;
  *)
    say "systemd did not finish booting (state: $state)"
    podman logs "$name" 2>&1 | tail -20 >&2
    exit 1
    ;;
esac
