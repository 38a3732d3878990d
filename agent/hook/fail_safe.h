// What the deploy-time commands (`hook`, `deploy`) share to keep their promise that OctoLaunch is
// never the reason a deploy fails: problems become one warning line on stderr, never an exit.
//
// Threads: any; both write to stderr only.
#pragma once

#include <memory>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/local/local_client.h"

namespace octolaunch::agent {

// "octolaunch-agent: warning: MESSAGE" on stderr, flushed.
void warnOnStderr(const std::string& message);

// Where `hook` and `deploy` hand their records over: the daemon's socket and the fallback queue
// of `config`, for a session of `kind` (agent/local/local_client.h).
LocalClientOptions localClientOptions(const AgentConfig& config, schema::LocalBatch::Kind kind);

}  // namespace octolaunch::agent
