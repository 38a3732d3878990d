// `octolaunch-agent deploy start|finish --release R --service S [--outcome ok|failed] [--phase P]`.
//
// Hands a deploy.start or deploy.finish marker to the agent daemon over its socket
// (agent/local/local_client.h), which credits it to the user running `deploy`; without a daemon
// the marker goes to the fallback queue, which the daemon imports when it runs again. The daemon
// stores the marker after that user's hooks still recording in the background (hook_command.h)
// are done, up to 10 s, so it follows their lines in seq order.
//
// What needs the daemon's privileges happens in the daemon (DeployFinishWorker), not here: for a
// deploy.finish of a service configured in [service.NAME] it writes the deploy record that starts
// the post-deploy health watch and records what the host now runs (artifact.observed,
// config.fingerprint, dependency.fingerprint with the fingerprint key). A marker imported from the
// queue gets these when it is imported, observed then.
//
// Contract: OctoLaunch is never the reason a deploy fails. When neither the daemon nor the queue
// takes the marker, `deploy` warns on stderr and exits 0. A --release, --service or --phase the
// collector would refuse is recorded changed to fit, with a warning
// (agent/hook/recordable_identifier.h).
#pragma once

#include <string>

#include "agent/config/agent_config.h"

namespace octolaunch::deploy {

struct DeployArgs {
  std::string action;  // "start" or "finish"
  std::string release;
  std::string service;
  std::string outcome;  // "ok", "failed" or empty (finish only)
  std::string phase;
};

// Returns 0 (also when the marker was not recorded: a warning says so); 2 for bad arguments.
int runDeployCommand(const agent::AgentConfig& config, const DeployArgs& args);

}  // namespace octolaunch::deploy
