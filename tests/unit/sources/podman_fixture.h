// Real containers for the container source's tests: rootful podman (Debian 12: 4.3.1) made to
// work here by ../shared/containers/setup-podman.sh (idempotent), a busybox image imported
// offline (localhost/bb:1, as ../shared/CONTAINERS.md describes), and podman's Docker-compatible
// API served by `podman system service` on a socket of the test's own.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/process.h"

namespace octolaunch::testing {

inline std::filesystem::path sharedContainersDir() {
  return std::filesystem::path(OCTOLAUNCH_SOURCE_DIR) / ".." / "shared" / "containers";
}

// Makes podman usable and the busybox image present; returns why not, or "".
inline std::string preparePodman() {
  using namespace std::chrono_literals;
  if (::geteuid() != 0) return "rootful podman needs root";
  const auto setup = sharedContainersDir() / "setup-podman.sh";
  if (!std::filesystem::exists(setup)) return "no " + setup.string() + " to set podman up";
  auto r = run({"bash", setup.string()}, 600s);
  if (r.exitCode != 0) return "setup-podman.sh failed: " + r.out + r.err;
  if (run({"podman", "image", "exists", "localhost/bb:1"}, 60s).exitCode != 0) {
    const std::string script =
        "set -e; d=$(mktemp -d); mkdir -p $d/r/bin; cp /bin/busybox $d/r/bin/; "
        "for a in sh echo false true sleep cat; do ln -s busybox $d/r/bin/$a; done; "
        "tar -C $d/r -cf $d/bb.tar .; podman import $d/bb.tar localhost/bb:1 >/dev/null; rm -rf $d";
    r = run({"bash", "-c", script}, 120s);
    if (r.exitCode != 0) return "cannot import the busybox image: " + r.out + r.err;
  }
  return {};
}

// `podman system service --time=0 unix://<socket>` for the life of the object.
class PodmanService final {
 public:
  explicit PodmanService(std::filesystem::path socket) : socket_(std::move(socket)) { start(); }
  void start() {
    std::filesystem::remove(socket_);
    ProcessOptions options;
    options.argv = {"podman", "system", "service", "--time=0", "unix://" + socket_.string()};
    options.captureStdout = false;
    options.discardStdout = true;
    process_ = std::make_unique<Process>(options);
    for (int i = 0; i < 500 && !ready(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  void kill() {
    process_.reset();  // SIGKILL and reap
    std::filesystem::remove(socket_);
  }
  bool ready() const {
    struct stat st {};
    return ::stat(socket_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
  }
  const std::filesystem::path& socket() const { return socket_; }

 private:
  std::filesystem::path socket_;
  std::unique_ptr<Process> process_;
};

}  // namespace octolaunch::testing
