// `octolaunch-agent deploy start|finish --release R --service S [--outcome ok|failed] [--phase P]`.
//
// start appends deploy.start. finish appends deploy.finish, then, for a service configured in
// [service.NAME], writes <spool>/deploys/<service> (which starts the daemon's post-deploy health
// watch) and appends what the host now runs: artifact.observed, config.fingerprint,
// dependency.fingerprint (deploy_observation.h). Observed at start, these would record the previous
// release's artifact under the new release's id. Hooks still recording in the background
// (hook_command.h) are waited for, up to 10 s, so the marker follows their lines in seq order.
//
// Contract: OctoLaunch is never the reason a deploy fails. When the spool cannot be opened or
// written, or an observation fails, `deploy` warns on stderr and exits 0. A --release, --service or
// --phase the collector would refuse is recorded changed to fit, with a warning
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

// Returns 0 (also when the spool failed: a warning says so); 2 for bad arguments.
int runDeployCommand(const agent::AgentConfig& config, const DeployArgs& args);

}  // namespace octolaunch::deploy
