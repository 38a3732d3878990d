#include "agent/hook/hook_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "agent/hook/child_identity.h"
#include "agent/hook/child_runner.h"
#include "agent/hook/fail_safe.h"
#include "agent/hook/hook_recorder.h"
#include "agent/hook/recordable_identifier.h"
#include "agent/hook/recorder_thread.h"
#include "agent/local/local_client.h"
#include "agent/redact/redactor.h"
#include "shared/util/clock.h"

namespace octolaunch::agent {

namespace {

constexpr std::chrono::milliseconds kFlushInterval{50};
// Output waiting for the recorder: up to this much, the command never waits for recording.
constexpr std::size_t kMaxQueuedBytes = std::size_t{128} << 20;

std::string joinArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out.push_back(' ');
    out += a;
  }
  return out;
}

// Last resort when the wrapper's own machinery (pipes, fork) failed: become the command.
int execDirectly(const std::vector<std::string>& argv, const sigset_t& mask) {
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  int e = errno;
  std::fprintf(stderr, "octolaunch-agent: %s: %s\n", argv[0].c_str(), std::strerror(e));
  return e == ENOENT ? 127 : 126;
}

// Runs the command and records it. With statusFd >= 0 (the supervisor is a child of the process
// the shell waits for): as soon as the command is done, its status goes down statusFd, this
// process lets go of the terminal and the caller's pipes, and finishes recording detached.
// Returns the command's status, or kRunDirectly when the command could not be started here.
constexpr int kRunDirectly = -1;

int supervise(const AgentConfig& config, const HookArgs& args, const sigset_t& previousMask,
              int statusFd) {
  SystemClock clock;
  ChunkPool pool;  // declared first: outlives the recorder thread that releases into it
  std::unique_ptr<Redactor> redactor;
  std::unique_ptr<LocalSink> sink;
  std::unique_ptr<HookRecorder> recorder;
  std::unique_ptr<RecorderThread> recorderThread;
  try {
    redactor = std::make_unique<Redactor>(config.redact.patterns);
    // Connects now: the daemon counts this hook as recording until it is done.
    sink = std::make_unique<LocalSink>(localClientOptions(config, schema::LocalBatch::Kind::HOOK),
                                       warnOnStderr);
  } catch (const std::invalid_argument& e) {
    // Recording without the patterns asked for could store what they were meant to mask.
    warnOnStderr(std::string("[redact] ") + e.what() +
                 "; running the command without recording its output");
  } catch (const std::exception& e) {
    warnOnStderr(std::string(e.what()) + "; running the command without recording its output");
  }
  if (sink) {
    HookLimits limits;
    limits.tailLines = config.hook.tailLines;
    limits.maxLineBytes = config.hook.maxLineBytes;
    recorder = std::make_unique<HookRecorder>(*sink, *redactor,
                                              HookContext{args.release, args.service, args.phase},
                                              limits, warnOnStderr);
    recorderThread =
        std::make_unique<RecorderThread>(*recorder, pool, kFlushInterval, kMaxQueuedBytes);
  }

  ChildResult result;
  try {
    result = runChild(args.command, std::chrono::seconds(config.hook.graceSeconds), previousMask,
                      clock, pool, [&](HookStream stream, OutputChunk& chunk, std::int64_t timeNs) {
                        if (recorderThread) recorderThread->push(stream, chunk, timeNs);
                      });
  } catch (const std::exception& e) {
    warnOnStderr(std::string("cannot supervise the command (") + e.what() +
                 "); running it unrecorded");
    return kRunDirectly;
  }
  if (result.execError) {
    std::fprintf(stderr, "octolaunch-agent: %s: %s\n", args.command[0].c_str(),
                 result.execError->c_str());
  }
  if (result.graceExpired) {
    warnOnStderr(
        "the command exited but a background process still holds its output; stopped reading "
        "after " +
        std::to_string(config.hook.graceSeconds) + " s");
  }
  if (statusFd >= 0) {
    // The deploy goes on now; recording finishes in the background, holding nothing of the
    // caller's (no terminal, no pipe a `| cat` would wait on).
    int status = result.status;
    (void)!::write(statusFd, &status, sizeof(status));
    ::close(statusFd);
    int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devNull >= 0) {
      ::dup2(devNull, STDIN_FILENO);
      ::dup2(devNull, STDOUT_FILENO);
      ::dup2(devNull, STDERR_FILENO);
      ::close(devNull);
    }
    ::setsid();
  }
  if (recorderThread) {
    HookOutcome outcome;
    outcome.command = joinArgv(args.command);
    outcome.exitCode = result.exitCode;
    outcome.signal = result.signal;
    outcome.durationMs = static_cast<std::uint64_t>(result.durationNs / 1'000'000);
    outcome.timeNs = result.endTimeNs;
    outcome.childPid = static_cast<std::int32_t>(result.childPid);
    outcome.cgroup = std::move(result.cgroup);
    recorderThread->finish(outcome);
  }
  return result.status;
}

// The process the shell waits for: waits for the supervisor's status, forwarding signals to it.
int awaitStatus(pid_t supervisor, int statusFd, const HookArgs& args,
                const sigset_t& previousMask) {
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&handled, s);
  int signals = ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  int status = 0;
  std::size_t got = 0;
  for (;;) {
    pollfd fds[2] = {{statusFd, POLLIN, 0}, {signals, POLLIN, 0}};
    if (::poll(fds, signals >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) break;
    if (signals >= 0 && fds[1].revents != 0) {
      signalfd_siginfo info{};
      while (::read(signals, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        // The terminal signals the whole process group itself (SI_KERNEL): no second copy.
        if (info.ssi_code != SI_KERNEL) ::kill(supervisor, static_cast<int>(info.ssi_signo));
      }
    }
    if (fds[0].revents != 0) {
      ssize_t n = ::read(statusFd, reinterpret_cast<char*>(&status) + got, sizeof(status) - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
      if (got == sizeof(status)) break;
    }
  }
  if (signals >= 0) ::close(signals);
  if (got == sizeof(status)) {
    if (status == kRunDirectly) {
      ::waitpid(supervisor, nullptr, 0);
      return execDirectly(args.command, previousMask);
    }
    return status;  // the supervisor finishes recording on its own (init reaps it)
  }
  // The supervisor ended without a status: it returned early (no detach) or crashed.
  int wstatus = 0;
  while (::waitpid(supervisor, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  warnOnStderr("the hook supervisor died of signal " + std::to_string(WTERMSIG(wstatus)));
  return 128 + WTERMSIG(wstatus);
}

}  // namespace

int runHookCommand(const AgentConfig& config, const HookArgs& given) {
  HookArgs args = given;
  args.release = recordableIdentifierOrWarn("--release", given.release);
  args.service = recordableIdentifierOrWarn("--service", given.service);
  args.phase = recordableIdentifierOrWarn("--phase", given.phase);
  const sigset_t previousMask = blockHookSignals();
  int statusPipe[2];
  pid_t supervisor = -1;
  if (::pipe2(statusPipe, O_CLOEXEC) == 0) {
    supervisor = ::fork();
    if (supervisor == 0) {
      ::close(statusPipe[0]);
      int status = supervise(config, args, previousMask, statusPipe[1]);
      if (status == kRunDirectly) {
        (void)!::write(statusPipe[1], &status, sizeof(status));
        status = 0;
      }
      std::fflush(nullptr);
      ::_exit(status);
    }
    ::close(statusPipe[1]);
    if (supervisor > 0) return awaitStatus(supervisor, statusPipe[0], args, previousMask);
    ::close(statusPipe[0]);
  }
  // No second process: supervise and record here, returning only when recording is done.
  int status = supervise(config, args, previousMask, -1);
  return status == kRunDirectly ? execDirectly(args.command, previousMask) : status;
}

}  // namespace octolaunch::agent
