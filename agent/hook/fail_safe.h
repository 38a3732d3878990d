// What the deploy-time commands (`hook`, `deploy`) share to keep their promise that OctoLaunch is
// never the reason a deploy fails: problems become one warning line on stderr, never an exit.
//
// Threads: any; both write to stderr only.
#pragma once

#include <memory>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/spool/spool.h"

namespace octolaunch::agent {

// "octolaunch-agent: warning: MESSAGE" on stderr, flushed.
void warnOnStderr(const std::string& message);

// The configured spool, or null after warning "<why>; <consequence>" when it cannot be opened.
std::unique_ptr<Spool> openSpoolOrWarn(const AgentConfig& config, const char* consequence);

}  // namespace octolaunch::agent
