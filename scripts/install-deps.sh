#!/usr/bin/env bash
# Installs every Debian 12 package OctoLaunch needs to build, run and test.
# Idempotent: installs only what is missing; needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates curl
  capnproto libcapnp-dev liblmdb-dev lmdb-utils libspdlog-dev libfmt-dev
  libcpp-httplib-dev libboost-dev libtomlplusplus-dev libcli11-dev
  nlohmann-json3-dev libre2-dev libsystemd-dev libssl-dev openssl libzstd-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # Packages and `cmake --install` (cmake/packaging.cmake): man pages from --help, and the `file`
  # command with which CPack finds the binaries for dpkg-shlibdeps.
  help2man file
)
if [ "${OCTOLAUNCH_WITH_TEST_TOOLS:-0}" = 1 ]; then
  # clang-format-14 is pinned (Debian 12's default): the format_check test compares against it,
  # and other versions lay the same .clang-format out differently.
  packages+=(clang-14 libclang-rt-14-dev clang-format-14 podman busybox-static mmdebstrap systemd-journal-remote procps util-linux bc python3 stress-ng lintian)
  # The web UI's browser test (tests/browser): Chromium, and node + npm for playwright-core
  # (Debian's nodejs unless a node is already installed, e.g. a newer one from elsewhere).
  packages+=(chromium)
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
