// Running a configured command (`/bin/sh -c COMMAND`) the way probes and dependency fingerprints
// need it: stdin from /dev/null, stdout and stderr together on one pipe, in its own process group
// so a timeout kills everything it started, and a pidfd that becomes readable when it exits.
//
// Contract
//  * spawnShell() throws std::runtime_error when the pipe, fork or pidfd fails, or when the
//    command cannot run as the configured user (run_as.h: then it was not run). The caller owns
//    the returned descriptors (SpawnedCommand closes them) and must reap the pid (reap()).
//  * runShellCommand() blocks until the command exits or the timeout passes (then SIGKILLs the
//    process group), keeps at most maxOutput bytes of output (the first ones) and never throws
//    for a command that fails: the result says what happened.
//  * Output written by a background child after the command itself exited is not waited for.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace octolaunch::services {

class SpawnedCommand final {
 public:
  SpawnedCommand(pid_t pid, int pidfd, int outFd) : pid_(pid), pidfd_(pidfd), outFd_(outFd) {}
  SpawnedCommand(SpawnedCommand&& other) noexcept;
  SpawnedCommand& operator=(SpawnedCommand&&) = delete;
  SpawnedCommand(const SpawnedCommand&) = delete;
  ~SpawnedCommand();  // kills the process group if not reaped, then reaps; closes what it still
                      // owns

  pid_t pid() const { return pid_; }
  // Hands the descriptor to the caller (e.g. an asio stream descriptor); -1 once released.
  int releasePidfd();
  int releaseOutFd();
  int pidfd() const { return pidfd_; }
  int outFd() const { return outFd_; }

  // SIGKILL to the whole process group.
  void killGroup();
  // Waits for the exit (call it once the pidfd is readable or after killGroup) and returns the
  // raw wait status; nullopt when it cannot be collected (e.g. the process ignores SIGCHLD, so
  // the kernel reaped the child already).
  std::optional<int> reap();

 private:
  pid_t pid_;
  int pidfd_;
  int outFd_;
  bool reaped_ = false;
};

// runAs: the user to run as (run_as.h); empty: the agent's own. The command never inherits the
// agent's ambient capabilities.
SpawnedCommand spawnShell(const std::string& command, const std::string& runAs = "");

// "exit status 3", "killed by signal 9 (Killed)".
std::string describeWaitStatus(int status);
// Exit code, or 128 + signal.
int exitCodeOf(int waitStatus);

struct CommandResult {
  bool timedOut = false;
  int exitCode = -1;   // 0 = success; 128+N for a signal; -1 when it could not be started
  std::string output;  // stdout and stderr, interleaved as written, at most maxOutput bytes
  bool truncated = false;
  std::string error;  // empty on exit 0; otherwise what went wrong, for humans
  bool ok() const { return exitCode == 0 && !timedOut; }
};

CommandResult runShellCommand(const std::string& command, std::chrono::milliseconds timeout,
                              std::size_t maxOutput, const std::string& runAs = "");

}  // namespace octolaunch::services
