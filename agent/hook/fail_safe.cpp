#include "agent/hook/fail_safe.h"

#include <cstdio>

namespace octolaunch::agent {

void warnOnStderr(const std::string& message) {
  std::fprintf(stderr, "octolaunch-agent: warning: %s\n", message.c_str());
  std::fflush(stderr);
}

LocalClientOptions localClientOptions(const AgentConfig& config, schema::LocalBatch::Kind kind) {
  LocalClientOptions options;
  options.socket = config.socketPath();
  options.queueDir = config.queueDir();
  options.kind = kind;
  // A deploy marker may wait up to 10 s in the daemon for the user's hooks to finish recording.
  options.replyTimeout = kind == schema::LocalBatch::Kind::DEPLOY ? std::chrono::milliseconds(15000)
                                                                  : std::chrono::milliseconds(2000);
  return options;
}

}  // namespace octolaunch::agent
