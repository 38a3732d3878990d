// `octolaunch-agent hook [--release R] [--service S] [--phase P] -- CMD [ARGS...]`.
//
// How `hook` runs: the process the shell waits for forks a supervisor, which runs CMD (two pipes,
// passthrough, signal forwarding) and records its output on a thread of its own. As soon as CMD
// is done (exited, pipes closed or the grace expired) the supervisor hands CMD's status to the
// waiting process, which exits with it at once; the supervisor lets go of the terminal and the
// caller's pipes (setsid, /dev/null) and finishes recording detached. So a deploy never waits for
// recording. The records go to the agent daemon over its socket (agent/local/local_client.h),
// which credits them to the user running `hook`; while a supervisor records, its connection is
// open, and the daemon holds back the same user's `deploy` marker (up to 10 s) until it is done.
// Without a daemon (or when it does not answer within 2 s) the records go to the fallback queue,
// which the daemon imports when it runs again.
//
// Contract: OctoLaunch is never the reason a deploy fails. When neither the daemon nor the queue
// takes the records, `hook` warns once on stderr and carries on: it still runs CMD, passes its
// output through and returns its exit status. A --release, --service or --phase the collector would
// refuse (too long, not UTF-8) is recorded changed to fit, with a warning
// (recordable_identifier.h).
#pragma once

#include <string>
#include <vector>

#include "agent/config/agent_config.h"

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

}  // namespace octolaunch::agent
