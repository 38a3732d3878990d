#include "collector/store/agent_status.h"

#include <algorithm>
#include <limits>

namespace octolaunch {

AgentStatus& AgentStatusTable::entry(const std::string& agentId) {
  auto found = agents_.find(agentId);
  if (found != agents_.end()) return found->second;
  if (agents_.size() >= maxAgents_ && !agents_.empty()) {
    auto oldest = std::min_element(
        agents_.begin(), agents_.end(),
        [](const auto& a, const auto& b) { return a.second.lastSeenNs < b.second.lastSeenNs; });
    agents_.erase(oldest);
  }
  AgentStatus& status = agents_[agentId];
  status.agentId = agentId;
  return status;
}

void AgentStatusTable::noteSeen(const std::string& agentId, const std::string& host,
                                std::int64_t nowNs) {
  std::lock_guard lock(mutex_);
  AgentStatus& status = entry(agentId);
  if (!host.empty()) status.host = host;
  status.lastSeenNs = std::max(status.lastSeenNs, nowNs);
}

void AgentStatusTable::noteDelivered(const std::string& agentId, std::int64_t receivedNs,
                                     std::int64_t newestEventNs,
                                     std::optional<std::int64_t> offsetNs) {
  // The event time and the clock offset are the agent's: computed wide and clamped, so that no
  // value a peer sends can overflow.
  using Wide = __int128;
  constexpr Wide kMax = std::numeric_limits<std::int64_t>::max();
  constexpr Wide kMin = std::numeric_limits<std::int64_t>::min();
  const Wide lag = Wide{receivedNs} - Wide{newestEventNs} - Wide{offsetNs.value_or(0)};
  std::lock_guard lock(mutex_);
  entry(agentId).lagNs = static_cast<std::int64_t>(std::clamp(lag, kMin, kMax));
}

void AgentStatusTable::noteHealth(const std::string& agentId, AgentHealth health) {
  std::lock_guard lock(mutex_);
  entry(agentId).health = std::move(health);
}

std::vector<AgentStatus> AgentStatusTable::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<AgentStatus> out;
  out.reserve(agents_.size());
  for (const auto& [id, status] : agents_) out.push_back(status);
  return out;
}

std::optional<AgentStatus> AgentStatusTable::find(const std::string& agentId) const {
  std::lock_guard lock(mutex_);
  auto found = agents_.find(agentId);
  if (found == agents_.end()) return std::nullopt;
  return found->second;
}

}  // namespace octolaunch
