// A real cgroup v1 memory cgroup for tests, and a child process that allocates in it until the
// kernel's OOM killer kills it. Needs root and a v1 memory hierarchy (/sys/fs/cgroup/memory).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "tests/support/wait.h"

namespace octolaunch::testing {

inline const std::filesystem::path kMemcgV1Root = "/sys/fs/cgroup/memory";

// Why a real v1 memcg cannot be made here, or "" when it can.
inline std::string memcgV1Unavailable() {
  if (::geteuid() != 0) return "needs root to create a memory cgroup";
  if (!std::filesystem::exists(kMemcgV1Root / "memory.oom_control")) {
    return "needs a cgroup v1 memory hierarchy at /sys/fs/cgroup/memory";
  }
  return {};
}

class MemcgV1 final {
 public:
  // Creates /sys/fs/cgroup/memory/<name> with the given limit. Throws on failure.
  MemcgV1(const std::string& name, std::uint64_t limitBytes)
      : rel_("/" + name), path_(kMemcgV1Root / name) {
    std::filesystem::create_directory(path_);
    write("memory.limit_in_bytes", std::to_string(limitBytes));
  }
  ~MemcgV1() {
    // Kill what is left, then remove the (empty) cgroup; rmdir retries until the kernel let go.
    std::ifstream procs(path_ / "cgroup.procs");
    for (pid_t pid; procs >> pid;) ::kill(pid, SIGKILL);
    waitUntil([&] { return ::rmdir(path_.c_str()) == 0 || errno != EBUSY; },
              std::chrono::seconds(2), std::chrono::milliseconds(10));
  }
  MemcgV1(const MemcgV1&) = delete;
  MemcgV1& operator=(const MemcgV1&) = delete;

  // The path as the kernel prints it ("/name").
  const std::string& rel() const { return rel_; }
  const std::filesystem::path& path() const { return path_; }

  void write(const std::string& file, const std::string& value) const {
    std::ofstream out(path_ / file);
    out << value;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + (path_ / file).string());
  }

  // Forks a child that joins this cgroup and touches memory until it is killed. The child uses
  // async-signal-safe calls only (the parent has threads). Returns its pid.
  pid_t spawnHog() const {
    const std::string procs = (path_ / "cgroup.procs").string();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    char digits[16];
    int n = 0;
    for (pid_t self = ::getpid(); self > 0; self /= 10)
      digits[n++] = static_cast<char>('0' + self % 10);
    char text[16];
    for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
    const int fd = ::open(procs.c_str(), O_WRONLY);
    if (fd < 0 || ::write(fd, text, static_cast<size_t>(n)) != n) ::_exit(90);
    ::close(fd);
    for (;;) {
      const size_t chunk = 1 << 20;
      void* p = ::mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) ::_exit(91);
      for (size_t i = 0; i < chunk; i += 4096) static_cast<volatile char*>(p)[i] = 1;
    }
  }

 private:
  std::string rel_;
  std::filesystem::path path_;
};

// Waits for pid; returns the raw wait status or nullopt after the timeout (the child is then
// killed).
inline std::optional<int> waitChild(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  if (waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout,
                std::chrono::milliseconds(5))) {
    return status;
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return std::nullopt;
}

}  // namespace octolaunch::testing
