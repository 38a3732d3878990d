// GET /api/v1/agents -> {"agents": [{"agent_id", "host", "status" ("active" | "revoked"),
// "enrolled", "enrolled_from", "last_seen", "last_peer", "revoked", "clones_reported",
// "last_clone", "last_clone_peer", "lag_seconds", "health"}]}: the enrolled agents by agent id,
// times RFC 3339 (null when never). clones_reported counts hellos refused as a second
// installation of the agent's key. lag_seconds is the delivery lag of /metrics'
// octolaunch_agent_lag_seconds (null before a push since the collector started); health is the
// agent's latest report since the collector started, null when none: {"reported", "spool_events",
// "spool_bytes", "events_shed", "ship_latency_seconds" (null before an acknowledged push),
// "recording_failures", "source_errors": {source: count}}.
// POST /api/v1/agents/{id}/revoke (admin) -> {"agent_id", "revoked", "already_revoked"}: the
// agent's key is refused from now on and its live session ends; its events stay stored. 404 for
// an agent that never enrolled.
#include "collector/http/routes/routes.h"

namespace octolaunch::http {

namespace {

nlohmann::json timeOrNull(std::int64_t ns) {
  return ns == 0 ? nlohmann::json(nullptr) : nlohmann::json(formatRfc3339Ns(ns));
}

nlohmann::json secondsOrNull(std::optional<std::int64_t> ns) {
  return ns ? nlohmann::json(static_cast<double>(*ns) / 1e9) : nlohmann::json(nullptr);
}

nlohmann::json healthJson(const std::optional<AgentHealth>& health) {
  if (!health) return nullptr;
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& [source, count] : health->sourceErrors) sources[source] = count;
  return {{"reported", timeOrNull(health->receivedNs)},
          {"spool_events", health->spoolEvents},
          {"spool_bytes", health->spoolBytes},
          {"events_shed", health->eventsShed},
          {"ship_latency_seconds", secondsOrNull(health->shipLatencyNs)},
          {"recording_failures", health->recordingFailures},
          {"source_errors", std::move(sources)}};
}

nlohmann::json agentJson(const EnrolledAgent& a, const std::optional<AgentStatus>& status) {
  return {{"agent_id", a.agentId},
          {"host", a.host},
          {"status", a.revoked() ? "revoked" : "active"},
          {"enrolled", timeOrNull(a.enrolledNs)},
          {"enrolled_from", a.enrolledFrom},
          {"last_seen", timeOrNull(a.lastSeenNs)},
          {"last_peer", a.lastPeer},
          {"revoked", timeOrNull(a.revokedNs)},
          {"clones_reported", a.clonesReported},
          {"last_clone", timeOrNull(a.lastCloneNs)},
          {"last_clone_peer", a.lastClonePeer},
          {"lag_seconds", secondsOrNull(status ? status->lagNs : std::nullopt)},
          {"health", healthJson(status ? status->health : std::nullopt)}};
}

AgentRegistry& registryOf(ApiContext& api) {
  if (api.agents == nullptr) throw HttpError(404, "this collector keeps no agent registry");
  return *api.agents;
}

}  // namespace

void registerAgentRoutes(Router& router, ApiContext& api) {
  router.get("/api/v1/agents", [&api](const httplib::Request&) {
    nlohmann::json agents = nlohmann::json::array();
    for (const EnrolledAgent& a : registryOf(api).list()) {
      std::optional<AgentStatus> status;
      if (api.agentStatus != nullptr) status = api.agentStatus->find(a.agentId);
      agents.push_back(agentJson(a, status));
    }
    return JsonReply{200, {{"agents", std::move(agents)}}, {}};
  });
  router.post(R"(/api/v1/agents/([^/]+)/revoke)",
              [&api](const httplib::Request& req) {
                AgentRegistry& registry = registryOf(api);
                const std::string agentId = req.matches[1];
                std::optional<EnrolledAgent> found;
                bool already = false;
                api.writer.run([&] {
                  found = registry.find(agentId);
                  if (!found) return;
                  already = found->revoked();
                  if (!already) {
                    found->revokedNs = api.clock.nowNs();
                    registry.put(*found);
                  }
                  if (api.agentRevoked) api.agentRevoked(agentId);
                });
                if (!found) {
                  return JsonReply{404, {{"error", "agent " + agentId + " is not enrolled"}}, {}};
                }
                return JsonReply{200,
                                 {{"agent_id", agentId},
                                  {"revoked", formatRfc3339Ns(found->revokedNs)},
                                  {"already_revoked", already}},
                                 {}};
              },
              Scope::admin);
}

}  // namespace octolaunch::http
