// The live session of each enrolled agent: a newer hello() of the same agent supersedes the older
// session, and revoking the agent ends it (its pushes then fail and its reconnect is refused).
// Sessions of agents that are not enrolled (an open collector) are not tracked.
//
// Threads: the ingest event loop only (HTTP's revoke runs there through the WriteSerializer).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace octolaunch::ingest {

class SessionTable final {
 public:
  // Starts the agent's session, superseding any other; returns its serial (never 0).
  std::uint64_t begin(const std::string& agentId) { return live_[agentId] = ++lastSerial_; }
  // serial 0 (an agent that is not enrolled) is always live.
  bool live(const std::string& agentId, std::uint64_t serial) const {
    if (serial == 0) return true;
    auto it = live_.find(agentId);
    return it != live_.end() && it->second == serial;
  }
  void end(const std::string& agentId) { live_.erase(agentId); }

 private:
  std::unordered_map<std::string, std::uint64_t> live_;
  std::uint64_t lastSerial_ = 0;
};

}  // namespace octolaunch::ingest
