#include "agent/deploy/deploy_command.h"

#include <capnp/message.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <span>

#include "agent/deploy/deploy_observation.h"
#include "agent/hook/fail_safe.h"
#include "agent/hook/recordable_identifier.h"
#include "agent/hook/recording_lock.h"
#include "agent/spool/spool.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/util/clock.h"

namespace octolaunch::deploy {

namespace {

using agent::warnOnStderr;

constexpr std::chrono::milliseconds kRecorderWait{10000};

// The marker's outcome; nullopt (after saying why on stderr) when --outcome is neither.
std::optional<schema::DeployMarker::Outcome> parseOutcome(const std::string& outcome) {
  if (outcome.empty()) return schema::DeployMarker::Outcome::UNKNOWN;
  if (outcome == "ok") return schema::DeployMarker::Outcome::OK;
  if (outcome == "failed") return schema::DeployMarker::Outcome::FAILED;
  std::fprintf(stderr, "octolaunch-agent deploy: --outcome must be ok or failed, got \"%s\"\n",
               outcome.c_str());
  return std::nullopt;
}

void appendMarker(agent::Spool& spool, const DeployArgs& args, bool start,
                  schema::DeployMarker::Outcome outcome, const Clock& clock) {
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  event.setTimeNs(clock.nowNs());
  event.setRelease(args.release);
  event.setService(args.service);
  auto marker =
      start ? event.getPayload().initDeployStart() : event.getPayload().initDeployFinish();
  if (!start) marker.setOutcome(outcome);
  if (!args.phase.empty()) marker.setPhase(args.phase);
  try {
    schema::Event::Reader reader = event.asReader();
    spool.append(std::span<const schema::Event::Reader>(&reader, 1));
  } catch (const std::exception& e) {
    warnOnStderr(std::string("deploy marker not recorded: ") + e.what());
  }
}

// After deploy.finish: the deploy record first (the health watch starts at once), then the
// observations of what the host now runs. Never throws; problems are warnings.
void observeFinishedDeploy(const agent::AgentConfig& config, const DeployArgs& args,
                           agent::Spool& spool, const Clock& clock) {
  const std::string outcome = args.outcome.empty() ? "unknown" : args.outcome;
  if (auto w = recordDeployFinish(config, args.service, args.release, outcome, clock))
    warnOnStderr(*w);
  for (const auto& w : observeForDeploy(config, args.service, args.release, spool, clock).warnings)
    warnOnStderr(w);
}

}  // namespace

int runDeployCommand(const agent::AgentConfig& config, const DeployArgs& given) {
  const bool start = given.action == "start";
  if (!start && given.action != "finish") {
    std::fprintf(stderr, "octolaunch-agent deploy: expected start or finish, got \"%s\"\n",
                 given.action.c_str());
    return 2;
  }
  const auto outcome = parseOutcome(given.outcome);
  if (!outcome) return 2;
  DeployArgs args = given;
  args.release = agent::recordableIdentifierOrWarn("--release", given.release);
  args.service = agent::recordableIdentifierOrWarn("--service", given.service);
  args.phase = agent::recordableIdentifierOrWarn("--phase", given.phase);
  SystemClock clock;
  auto spool = agent::openSpoolOrWarn(config, "deploy marker not recorded");
  if (!spool) return 0;
  agent::RecordingLock recorded(spool->dir(), agent::RecordingLock::Mode::exclusive, kRecorderWait);
  appendMarker(*spool, args, start, *outcome, clock);
  if (!start) observeFinishedDeploy(config, args, *spool, clock);
  return 0;
}

}  // namespace octolaunch::deploy
