// `octolaunch-agent hook [--release R] [--service S] [--phase P] -- CMD [ARGS...]` and
// `octolaunch-agent deploy start|finish --release R --service S [--outcome ok|failed] [--phase P]`.
//
// Contract: OctoLaunch is never the reason a deploy fails. When the spool cannot be opened or
// written, these commands warn once on stderr and carry on: `hook` still runs CMD, passes its
// output through and returns its exit status; `deploy` exits 0.
#pragma once

#include "agent/config/agent_config.h"

#include <string>
#include <vector>

namespace octolaunch::agent {

struct HookArgs {
  std::string release;
  std::string service;
  std::string phase;
  std::vector<std::string> command;  // CMD and its arguments; not empty
};

// Returns what the wrapper exits with: CMD's status, 128+N when CMD died of signal N, 127 when
// CMD was not found, 126 when it could not be executed.
int runHookCommand(const AgentConfig& config, const HookArgs& args);

struct DeployArgs {
  std::string action;   // "start" or "finish"
  std::string release;
  std::string service;
  std::string outcome;  // "ok", "failed" or empty (finish only)
  std::string phase;
};

// Appends deploy.start / deploy.finish to the spool. Returns 0 (also when the spool failed: a
// warning says so); 2 for bad arguments.
int runDeployCommand(const AgentConfig& config, const DeployArgs& args);

}  // namespace octolaunch::agent
