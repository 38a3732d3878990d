// `octolaunch-agent hook [--release R] [--service S] [--phase P] -- CMD [ARGS...]`.
//
// How `hook` runs: the process the shell waits for forks a supervisor, which runs CMD (two pipes,
// passthrough, signal forwarding) and records its output on a thread of its own. As soon as CMD
// is done (exited, pipes closed or the grace expired) the supervisor hands CMD's status to the
// waiting process, which exits with it at once; the supervisor lets go of the terminal and the
// caller's pipes (setsid, /dev/null) and finishes writing the spool detached. So a deploy never
// waits for recording; while a supervisor records it holds a shared lock on <spool>/hook.lock,
// and `deploy` waits (up to 10 s) for such recorders before appending its marker.
//
// Contract: OctoLaunch is never the reason a deploy fails. When the spool cannot be opened or
// written, `hook` warns once on stderr and carries on: it still runs CMD, passes its output
// through and returns its exit status. A --release, --service or --phase the collector would
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
