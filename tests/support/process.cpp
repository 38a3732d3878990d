#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

extern char** environ;

namespace octolaunch::testing {

namespace {
using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}
}  // namespace

Process::Process(const ProcessOptions& options) {
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (options.captureStdout && pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (options.captureStderr && pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& e : options.extraEnv) {
    // NAME=value replaces an inherited or earlier NAME: getenv() would see only the first.
    const std::string name = e.substr(0, e.find('=') + 1);
    std::erase_if(env, [&name](const std::string& v) { return v.rfind(name, 0) == 0; });
    env.push_back(e);
  }
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    if (options.captureStdout) dup2(out[1], 1);
    if (!options.captureStdout && options.discardStdout) dup2(open("/dev/null", O_WRONLY), 1);
    if (options.captureStderr) dup2(err[1], 2);
    // Nothing else of the test's: a child that numbers its own descriptors (mmdebstrap hands apt
    // `cat >&N`, which /bin/sh refuses for N > 9) must find 3 and up free.
    close_range(3, ~0U, 0);
    if (!options.workDir.empty() && chdir(options.workDir.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : options.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  if (options.captureStdout) {
    close(out[1]);
    stdoutFd_ = out[0];
  }
  if (options.captureStderr) {
    close(err[1]);
    stderrFd_ = err[0];
  }
}

Process::~Process() {
  if (running()) kill9();
  if (stdoutFd_ >= 0) close(stdoutFd_);
  if (stderrFd_ >= 0) close(stderrFd_);
}

bool Process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2];
  int n = 0;
  if (stdoutFd_ >= 0) fds[n++] = {stdoutFd_, POLLIN, 0};
  if (stderrFd_ >= 0) fds[n++] = {stderrFd_, POLLIN, 0};
  if (n == 0) return false;
  int rc = poll(fds, n, static_cast<int>(timeout.count()));
  if (rc <= 0) return rc == 0;
  char buf[65536];
  for (int i = 0; i < n; ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    ssize_t got = read(fds[i].fd, buf, sizeof buf);
    bool isOut = fds[i].fd == stdoutFd_;
    if (got > 0) {
      (isOut ? stdout_ : stderr_).append(buf, static_cast<std::size_t>(got));
    } else if (got == 0) {
      close(fds[i].fd);
      (isOut ? stdoutFd_ : stderrFd_) = -1;
    }
  }
  return true;
}

std::optional<std::string> Process::waitForLine(const std::string& prefix,
                                                std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    std::size_t nl;
    while ((nl = stdout_.find('\n', consumed_)) != std::string::npos) {
      std::string line = stdout_.substr(consumed_, nl - consumed_);
      consumed_ = nl + 1;
      if (line.rfind(prefix, 0) == 0) return line;
    }
    if (stdoutFd_ < 0 && stderrFd_ < 0) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    pump(std::chrono::milliseconds(remainingMs(deadline)));
  }
}

std::string Process::readAllStdout(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while ((stdoutFd_ >= 0 || stderrFd_ >= 0) && Clock::now() < deadline) {
    pump(std::chrono::milliseconds(remainingMs(deadline)));
  }
  return stdout_;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = Clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = st;
      return status_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    // Drain output so a child blocked on a full pipe can finish.
    if (stdoutFd_ >= 0 || stderrFd_ >= 0) {
      pump(std::chrono::milliseconds(std::min(20, remainingMs(deadline))));
    } else {
      usleep(2000);  // polling waitpid: there is no fd to wait on for a child's exit here
    }
  }
}

void Process::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

void Process::kill9() {
  if (status_) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  status_ = st;
}

bool Process::running() {
  if (status_) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

int exitCodeOf(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return -1;
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::vector<std::string>& extraEnv, const std::string& workDir) {
  Process p({.argv = argv,
             .extraEnv = extraEnv,
             .captureStdout = true,
             .captureStderr = true,
             .workDir = workDir});
  RunResult r;
  r.out = p.readAllStdout(timeout);
  auto st = p.wait(timeout);
  r.err = p.stderrText();
  r.exitCode = st ? exitCodeOf(*st) : -1;
  return r;
}

}  // namespace octolaunch::testing
