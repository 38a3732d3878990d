// What the collector last learnt of each connected agent, in memory: when it was last heard from,
// how far behind real time its deliveries run, and the health it last reported (rpc.capnp,
// Ingest.report). Read by /metrics and GET /api/v1/agents; lost on restart (agents report again
// within a minute of reconnecting).
//
// Contract
//  * Bounded: at most maxAgents agents are kept; noting a new agent beyond that forgets the one
//    heard from least recently. Every agent id is kept as given (the ingest layer checked it).
//  * Lag: at the agent's latest push that the store took, the collector's receive time minus the
//    time of the newest event in it, that time moved onto the collector's clock by the agent's
//    measured clock offset when the push carried one. A backlog (a spool being drained after an
//    outage) shows as a large lag; an agent that is merely quiet keeps its last lag.
//
// Threads: every method may be called from any thread (one mutex; the ingest thread writes, HTTP
// threads read snapshots).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace octolaunch {

// An agent's report about itself (rpc.capnp, AgentHealth), as received.
struct AgentHealth {
  std::int64_t receivedNs = 0;  // collector clock
  std::uint64_t spoolEvents = 0;
  std::uint64_t spoolBytes = 0;
  std::uint64_t eventsShed = 0;
  std::optional<std::int64_t> shipLatencyNs;  // none before the agent's first acknowledged push
  std::uint64_t recordingFailures = 0;
  std::vector<std::pair<std::string, std::uint64_t>> sourceErrors;  // by source name, sorted
};

struct AgentStatus {
  std::string agentId;
  std::string host;
  std::int64_t lastSeenNs = 0;        // collector clock: the last hello, push or report
  std::optional<std::int64_t> lagNs;  // see the contract; none before a push was taken
  std::optional<AgentHealth> health;  // none from an agent that does not report
};

class AgentStatusTable final {
 public:
  static constexpr std::size_t kDefaultMaxAgents = 20000;
  explicit AgentStatusTable(std::size_t maxAgents = kDefaultMaxAgents) : maxAgents_(maxAgents) {}

  // A hello, push or report of agentId from host at nowNs (collector clock).
  void noteSeen(const std::string& agentId, const std::string& host, std::int64_t nowNs);
  // A push the store took, received at receivedNs, whose newest event is at newestEventNs (agent
  // clock); offsetNs: the agent's measured offset (collector minus agent), if it sent one.
  void noteDelivered(const std::string& agentId, std::int64_t receivedNs,
                     std::int64_t newestEventNs, std::optional<std::int64_t> offsetNs);
  void noteHealth(const std::string& agentId, AgentHealth health);

  // Every agent kept, by agent id.
  std::vector<AgentStatus> snapshot() const;
  std::optional<AgentStatus> find(const std::string& agentId) const;

 private:
  AgentStatus& entry(const std::string& agentId);  // mutex_ held
  mutable std::mutex mutex_;
  std::map<std::string, AgentStatus> agents_;  // guarded by mutex_
  std::size_t maxAgents_;
};

}  // namespace octolaunch
