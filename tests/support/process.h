// A child process for end-to-end tests: the real binaries, started with fork/exec, their stdout
// (and optionally stderr) read through pipes, waited for with deadlines instead of sleeps.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace octolaunch::testing {

struct ProcessOptions {
  std::vector<std::string> argv;
  std::vector<std::string> extraEnv;  // "NAME=value", replacing an inherited NAME
  bool captureStdout = true;
  bool captureStderr = false;  // when false, stderr goes to the test's stderr
  bool discardStdout = false;  // stdout to /dev/null (when not captured)
  std::string workDir;
};

class Process final {
 public:
  explicit Process(const ProcessOptions& options);  // throws std::runtime_error if fork fails
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // SIGKILLs and reaps a child that is still running

  pid_t pid() const { return pid_; }
  // Reads stdout until a line starting with prefix arrives; returns that whole line.
  std::optional<std::string> waitForLine(const std::string& prefix,
                                         std::chrono::milliseconds timeout);
  // Reads all of stdout (and stderr when captured) until EOF or the timeout.
  std::string readAllStdout(std::chrono::milliseconds timeout);
  const std::string& stderrText() const { return stderr_; }
  // Waits for the exit; returns the raw wait status, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  // SIGKILL and reap.
  void kill9();
  bool running();

 private:
  bool pump(std::chrono::milliseconds timeout);  // reads what is available; false on EOF+nothing
  pid_t pid_ = -1;
  int stdoutFd_ = -1;
  int stderrFd_ = -1;
  std::string stdout_;
  std::string stderr_;
  std::size_t consumed_ = 0;
  std::optional<int> status_;
};

// Exit code of a raw wait status, or 128+signal.
int exitCodeOf(int waitStatus);

// Runs argv to completion (stdin /dev/null) and returns {exit code, stdout}.
struct RunResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::vector<std::string>& extraEnv = {}, const std::string& workDir = "");

}  // namespace octolaunch::testing
