#include "agent/hook/fail_safe.h"

#include <cstdio>
#include <exception>

namespace octolaunch::agent {

void warnOnStderr(const std::string& message) {
  std::fprintf(stderr, "octolaunch-agent: warning: %s\n", message.c_str());
  std::fflush(stderr);
}

std::unique_ptr<Spool> openSpoolOrWarn(const AgentConfig& config, const char* consequence) {
  try {
    return Spool::open({config.spool.dir, config.spool.maxBytes, nullptr});
  } catch (const std::exception& e) {
    warnOnStderr(std::string(e.what()) + "; " + consequence);
    return nullptr;
  }
}

}  // namespace octolaunch::agent
