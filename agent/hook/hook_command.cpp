#include "agent/hook/hook_command.h"

#include "agent/hook/child_runner.h"
#include "agent/hook/hook_recorder.h"
#include "agent/hook/recorder_thread.h"
#include "agent/redact/redactor.h"
#include "agent/services/deploy_observation.h"
#include "agent/spool/spool.h"
#include "shared/util/clock.h"

#include <capnp/message.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

namespace octolaunch::agent {

namespace {

constexpr std::chrono::milliseconds kFlushInterval{50};
constexpr std::size_t kMaxQueuedBytes = 32u << 20;

void warn(const std::string& message) {
  std::fprintf(stderr, "octolaunch-agent: warning: %s\n", message.c_str());
  std::fflush(stderr);
}

std::unique_ptr<Spool> openSpoolOrWarn(const AgentConfig& config, const char* consequence) {
  try {
    return Spool::open({config.spool.dir, config.spool.maxBytes, nullptr});
  } catch (const std::exception& e) {
    warn(std::string(e.what()) + "; " + consequence);
    return nullptr;
  }
}

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

}  // namespace

int runHookCommand(const AgentConfig& config, const HookArgs& args) {
  const sigset_t previousMask = blockHookSignals();
  SystemClock clock;
  std::unique_ptr<Spool> spool =
      openSpoolOrWarn(config, "running the command without recording its output");
  std::unique_ptr<Redactor> redactor;
  std::unique_ptr<HookRecorder> recorder;
  std::unique_ptr<RecorderThread> recorderThread;
  if (spool) {
    redactor = std::make_unique<Redactor>();
    HookLimits limits;
    limits.tailLines = config.hook.tailLines;
    limits.maxLineBytes = config.hook.maxLineBytes;
    recorder = std::make_unique<HookRecorder>(
        *spool, *redactor, HookContext{args.release, args.service, args.phase}, limits, warn);
    recorderThread = std::make_unique<RecorderThread>(*recorder, kFlushInterval, kMaxQueuedBytes);
  }

  ChildResult result;
  try {
    result = runChild(args.command, std::chrono::seconds(config.hook.graceSeconds), previousMask,
                      clock, [&](HookStream stream, std::string_view bytes, std::int64_t timeNs) {
                        if (recorderThread) recorderThread->push(stream, bytes, timeNs);
                      });
  } catch (const std::exception& e) {
    warn(std::string("cannot supervise the command (") + e.what() + "); running it unrecorded");
    recorderThread.reset();
    return execDirectly(args.command, previousMask);
  }
  if (result.execError) {
    std::fprintf(stderr, "octolaunch-agent: %s: %s\n", args.command[0].c_str(),
                 result.execError->c_str());
  }
  if (result.graceExpired) {
    warn("the command exited but a background process still holds its output; stopped reading after " +
         std::to_string(config.hook.graceSeconds) + " s");
  }
  if (recorderThread) {
    HookOutcome outcome;
    outcome.command = joinArgv(args.command);
    outcome.exitCode = result.exitCode;
    outcome.signal = result.signal;
    outcome.durationMs = static_cast<std::uint64_t>(result.durationNs / 1'000'000);
    outcome.timeNs = result.endTimeNs;
    recorderThread->finish(outcome);
  }
  return result.status;
}

int runDeployCommand(const AgentConfig& config, const DeployArgs& args) {
  bool start = args.action == "start";
  if (!start && args.action != "finish") {
    std::fprintf(stderr, "octolaunch-agent deploy: expected start or finish, got \"%s\"\n",
                 args.action.c_str());
    return 2;
  }
  schema::DeployMarker::Outcome outcome = schema::DeployMarker::Outcome::UNKNOWN;
  if (args.outcome == "ok") {
    outcome = schema::DeployMarker::Outcome::OK;
  } else if (args.outcome == "failed") {
    outcome = schema::DeployMarker::Outcome::FAILED;
  } else if (!args.outcome.empty()) {
    std::fprintf(stderr, "octolaunch-agent deploy: --outcome must be ok or failed, got \"%s\"\n",
                 args.outcome.c_str());
    return 2;
  }
  SystemClock clock;
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  event.setTimeNs(clock.nowNs());
  event.setRelease(args.release);
  event.setService(args.service);
  auto marker = start ? event.getPayload().initDeployStart() : event.getPayload().initDeployFinish();
  if (!start) marker.setOutcome(outcome);
  if (!args.phase.empty()) marker.setPhase(args.phase);

  auto spool = openSpoolOrWarn(config, "deploy marker not recorded");
  if (!spool) return 0;
  try {
    schema::Event::Reader reader = event.asReader();
    spool->append(std::span<const schema::Event::Reader>(&reader, 1));
  } catch (const std::exception& e) {
    warn(std::string("deploy marker not recorded: ") + e.what());
  }
  // ---- agent/services (deploy-time observations; never throws, problems are warnings):
  // start: artifact.observed, config.fingerprint, dependency.fingerprint for the service;
  // finish: <spool>/deploys/<service>, which starts the daemon's post-deploy health watch.
  if (start) {
    for (const auto& w : services::observeForDeploy(config, args.service, args.release, *spool, clock).warnings) {
      warn(w);
    }
  } else if (auto w = services::recordDeployFinish(config, args.service, args.release,
                                                   args.outcome.empty() ? "unknown" : args.outcome, clock)) {
    warn(*w);
  }
  return 0;
}

}  // namespace octolaunch::agent
