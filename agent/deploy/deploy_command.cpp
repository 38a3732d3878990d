#include "agent/deploy/deploy_command.h"

#include <capnp/message.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <span>

#include "agent/hook/fail_safe.h"
#include "agent/hook/recordable_identifier.h"
#include "agent/local/local_client.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/util/clock.h"

namespace octolaunch::deploy {

namespace {

using agent::warnOnStderr;

// The marker's outcome; nullopt (after saying why on stderr) when --outcome is neither.
std::optional<schema::DeployMarker::Outcome> parseOutcome(const std::string& outcome) {
  if (outcome.empty()) return schema::DeployMarker::Outcome::UNKNOWN;
  if (outcome == "ok") return schema::DeployMarker::Outcome::OK;
  if (outcome == "failed") return schema::DeployMarker::Outcome::FAILED;
  std::fprintf(stderr, "octolaunch-agent deploy: --outcome must be ok or failed, got \"%s\"\n",
               outcome.c_str());
  return std::nullopt;
}

// Hands the marker to the daemon (or the fallback queue). Never throws; problems are warnings.
void recordMarker(const agent::AgentConfig& config, const DeployArgs& args, bool start,
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
    agent::LocalSink sink(agent::localClientOptions(config, schema::LocalBatch::Kind::DEPLOY),
                          warnOnStderr);
    schema::Event::Reader reader = event.asReader();
    sink.append(std::span<const schema::Event::Reader>(&reader, 1));
  } catch (const std::exception& e) {
    warnOnStderr(std::string("deploy marker not recorded: ") + e.what());
  }
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
  recordMarker(config, args, start, *outcome, clock);
  return 0;
}

}  // namespace octolaunch::deploy
