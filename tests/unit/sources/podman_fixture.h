// Real containers for the container source's tests: rootful podman (Debian 12: 4.3.1) made to
// work here, with a busybox image imported offline (localhost/bb:1), by
// tests/containers/podman-setup.sh, and podman's Docker-compatible API served by
// `podman system service` on a socket of the test's own.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace octolaunch::testing {

// The project's container scripts (tests/containers).
inline std::filesystem::path containersDir() {
  return std::filesystem::path(OCTOLAUNCH_SOURCE_DIR) / "tests" / "containers";
}

// Makes podman usable and the busybox image localhost/bb:1 present (podman-setup.sh, idempotent);
// returns why not, or "".
inline std::string preparePodman() {
  using namespace std::chrono_literals;
  if (::geteuid() != 0) return "rootful podman needs root";
  const auto r = run({"bash", (containersDir() / "podman-setup.sh").string()}, 600s);
  if (r.exitCode != 0) return "tests/containers/podman-setup.sh failed: " + r.out + r.err;
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
    waitUntil([this] { return ready(); }, std::chrono::seconds(5), std::chrono::milliseconds(10));
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
