#include "agent/services/shell_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include "agent/services/run_as.h"

extern char** environ;

namespace octolaunch::services {

SpawnedCommand::SpawnedCommand(SpawnedCommand&& other) noexcept
    : pid_(other.pid_), pidfd_(other.pidfd_), outFd_(other.outFd_), reaped_(other.reaped_) {
  other.pid_ = -1;
  other.pidfd_ = -1;
  other.outFd_ = -1;
  other.reaped_ = true;
}

SpawnedCommand::~SpawnedCommand() {
  if (!reaped_ && pid_ > 0) {
    killGroup();
    reap();
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  if (outFd_ >= 0) ::close(outFd_);
}

int SpawnedCommand::releasePidfd() { return std::exchange(pidfd_, -1); }
int SpawnedCommand::releaseOutFd() { return std::exchange(outFd_, -1); }

void SpawnedCommand::killGroup() {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGKILL);
}

std::optional<int> SpawnedCommand::reap() {
  if (reaped_ || pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t rc;
  while ((rc = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (rc < 0) return std::nullopt;
  return status;
}

namespace {

// What the child tells the parent when it could not exec: the failed step and its errno.
struct ExecFailure {
  char step[24] = {};
  int error = 0;
};

[[noreturn]] void failInChild(int reportFd, const char* step) {
  ExecFailure failure;
  failure.error = errno;
  std::strncpy(failure.step, step, sizeof(failure.step) - 1);
  [[maybe_unused]] const ssize_t ignored = ::write(reportFd, &failure, sizeof(failure));
  ::_exit(127);
}

}  // namespace

SpawnedCommand spawnShell(const std::string& command, const std::string& runAs) {
  const RunAsPlan plan = planRunAs(runAs);  // throws: the command is not run
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  int report[2];  // closed by a successful exec: EOF; else an ExecFailure
  int go[2];      // the child waits for EOF here: the parent holds a pidfd before it can exit
  if (::pipe2(report, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(err));
  }
  if (::pipe2(go, O_CLOEXEC) != 0) {
    const int err = errno;
    for (int fd : {fds[0], fds[1], report[0], report[1]}) ::close(fd);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(err));
  }
  char* const* env = plan.switchUser ? plan.envp.data() : environ;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {fds[0], fds[1], report[0], report[1], go[0], go[1]}) ::close(fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here to exec.
    ::close(go[1]);
    char ignored;
    while (::read(go[0], &ignored, 1) < 0 && errno == EINTR) {
    }
    ::setpgid(0, 0);
    int devNull = ::open("/dev/null", O_RDONLY);
    if (devNull >= 0) ::dup2(devNull, STDIN_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (const char* failed = applyRunAs(plan)) failInChild(report[1], failed);
    const char* const argv[] = {"sh", "-c", command.c_str(), nullptr};
    ::execve("/bin/sh", const_cast<char* const*>(argv), env);
    failInChild(report[1], "exec /bin/sh");
  }
  ::setpgid(pid, pid);  // also from the parent, so killGroup() works before the child ran
  ::close(fds[1]);
  ::close(report[1]);
  ::close(go[0]);
  // The child cannot exit before go[1] is closed, so the pid is still ours here even when
  // SIGCHLD is ignored (the kernel then reaps exited children at once).
  // glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++: call the syscall directly.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const int pidfdError = errno;
  ::close(go[1]);
  if (pidfd < 0) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(fds[0]);
    ::close(report[0]);
    throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(pidfdError));
  }
  ExecFailure failure;
  ssize_t got;
  while ((got = ::read(report[0], &failure, sizeof(failure))) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (got > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(pidfd);
    ::close(fds[0]);
    failure.step[sizeof(failure.step) - 1] = '\0';
    throw std::runtime_error((plan.switchUser ? "run_as \"" + plan.user + "\": " : std::string()) +
                             failure.step + ": " + std::strerror(failure.error) +
                             "; the command was not run");
  }
  return SpawnedCommand(pid, pidfd, fds[0]);
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

int exitCodeOf(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return -1;
}

CommandResult runShellCommand(const std::string& command, std::chrono::milliseconds timeout,
                              std::size_t maxOutput, const std::string& runAs) {
  CommandResult result;
  std::optional<SpawnedCommand> child;
  try {
    child.emplace(spawnShell(command, runAs));
  } catch (const std::exception& e) {
    result.error = std::string("cannot start: ") + e.what();
    return result;
  }
  ::fcntl(child->outFd(), F_SETFL, ::fcntl(child->outFd(), F_GETFL) | O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 65536> buf{};
  bool outOpen = true;
  bool exited = false;
  auto drain = [&] {
    while (outOpen) {
      const ssize_t n = ::read(child->outFd(), buf.data(), buf.size());
      if (n > 0) {
        const std::size_t room = maxOutput - std::min(maxOutput, result.output.size());
        result.output.append(buf.data(), std::min(room, static_cast<std::size_t>(n)));
        if (static_cast<std::size_t>(n) > room) result.truncated = true;
      } else if (n == 0) {
        outOpen = false;
      } else if (errno != EINTR) {
        break;  // EAGAIN: nothing more right now
      }
    }
  };
  while (!exited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timedOut = true;
      break;
    }
    std::array<pollfd, 2> fds{pollfd{child->pidfd(), POLLIN, 0},
                              pollfd{outOpen ? child->outFd() : -1, POLLIN, 0}};
    const int rc = ::poll(fds.data(), fds.size(),
                          static_cast<int>(std::min<std::int64_t>(left.count(), 60000)));
    if (rc < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) drain();
    if (fds[0].revents != 0) exited = true;
  }
  if (!exited) child->killGroup();
  drain();  // what the command wrote before it exited is in the pipe now
  const std::optional<int> waited = child->reap();
  if (!waited) {
    result.exitCode = -1;
    result.error = result.timedOut ? "timed out after " + std::to_string(timeout.count()) + " ms"
                                   : std::string("exit status unknown (waitpid failed)");
    return result;
  }
  const int status = *waited;
  result.exitCode = exitCodeOf(status);
  if (result.timedOut) {
    result.error = "timed out after " + std::to_string(timeout.count()) + " ms";
  } else if (result.exitCode != 0) {
    result.error = describeWaitStatus(status);
    if (result.exitCode == 127) result.error += " (command not found?)";
  }
  return result;
}

}  // namespace octolaunch::services
