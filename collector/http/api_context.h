// What the HTTP routes may use. Built in main(); every member outlives the HTTP server.
// A new route that needs another component adds a member here and a line in routes.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "collector/store/agent_registry.h"
#include "collector/store/agent_status.h"
#include "collector/store/event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/write_serializer.h"
#include "shared/util/clock.h"

namespace octolaunch::analysis {
struct AnalysisOptions;
}

namespace octolaunch::http {

struct ApiContext {
  EventStore& events;
  ReleaseStore& releases;
  WriteSerializer& writer;  // every store write from a handler goes through it
  const Clock& clock;
  // Each returns Prometheus text for /metrics; called on HTTP threads.
  std::vector<std::function<std::string()>> metrics;
  // The [analysis] section of the config (deploy windows, service mappings); defaults when null.
  const analysis::AnalysisOptions* analysis = nullptr;
  // Enrolled agents (GET /api/v1/agents, revoke); the routes answer 404 when null.
  AgentRegistry* agents = nullptr;
  // What ingest last learnt of each agent (seen, lag, health): /metrics and GET /api/v1/agents
  // leave it out when null.
  const AgentStatusTable* agentStatus = nullptr;
  // Called through `writer` after an agent is revoked: ends its live session.
  std::function<void(const std::string& agentId)> agentRevoked;
};

}  // namespace octolaunch::http
