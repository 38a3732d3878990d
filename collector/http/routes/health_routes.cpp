// GET /healthz -> {"status": "ok"} (open to all); GET /metrics (read scope) -> Prometheus text:
// the build and the process (http_metrics.h), every source in ApiContext::metrics, and the agents
// ingest knows of (one series per agent, label agent):
//   octolaunch_agent_last_seen_timestamp_seconds   the last hello, push or health report
//   octolaunch_agent_lag_seconds                   delivery lag (agent_status.h: at the latest
//                                                  push taken, its receive time minus the time of
//                                                  its newest event, clock offset corrected)
//   octolaunch_agent_health_report_timestamp_seconds, _spool_events, _spool_bytes,
//   _events_shed_total, _ship_latency_seconds, _recording_failures_total,
//   _source_errors_total{source}                   the agent's latest report (rpc.capnp
//                                                  AgentHealth); absent for an agent that sends
//                                                  none
#include "collector/http/routes/routes.h"
#include "shared/util/prometheus_text.h"

namespace octolaunch::http {

namespace {

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// One family over the agents for which value() has a value.
template <typename Value>
void agentFamily(PrometheusText& out, const std::vector<AgentStatus>& agents, const char* name,
                 const char* type, const char* help, Value value) {
  out.family(name, type, help);
  for (const AgentStatus& a : agents) {
    if (auto v = value(a)) out.sample(name, {{"agent", a.agentId}}, *v);
  }
}

void writeAgentMetrics(PrometheusText& out, const std::vector<AgentStatus>& agents) {
  using U = std::optional<std::uint64_t>;
  using D = std::optional<double>;
  agentFamily(out, agents, "octolaunch_agent_last_seen_timestamp_seconds", "gauge",
              "When the collector last heard from the agent (hello, push or health report), "
              "seconds since the Unix epoch.",
              [](const AgentStatus& a) { return D(seconds(a.lastSeenNs)); });
  agentFamily(out, agents, "octolaunch_agent_lag_seconds", "gauge",
              "Delivery lag: at the agent's latest push that was stored, the collector's receive "
              "time minus the time of the newest event in it (the agent's clock corrected by its "
              "measured offset). Large while the agent drains a backlog.",
              [](const AgentStatus& a) { return a.lagNs ? D(seconds(*a.lagNs)) : D(); });
  agentFamily(
      out, agents, "octolaunch_agent_health_report_timestamp_seconds", "gauge",
      "When the agent's latest health report arrived, seconds since the Unix epoch.",
      [](const AgentStatus& a) { return a.health ? D(seconds(a.health->receivedNs)) : D(); });
  agentFamily(out, agents, "octolaunch_agent_spool_events", "gauge",
              "Events in the agent's spool not yet acknowledged (its latest report).",
              [](const AgentStatus& a) { return a.health ? U(a.health->spoolEvents) : U(); });
  agentFamily(out, agents, "octolaunch_agent_spool_bytes", "gauge",
              "Bytes of the events in the agent's spool (its latest report).",
              [](const AgentStatus& a) { return a.health ? U(a.health->spoolBytes) : U(); });
  agentFamily(out, agents, "octolaunch_agent_events_shed_total", "counter",
              "Low-value events the agent's spool shed while full, since the spool was created.",
              [](const AgentStatus& a) { return a.health ? U(a.health->eventsShed) : U(); });
  agentFamily(out, agents, "octolaunch_agent_ship_latency_seconds", "gauge",
              "Round trip of the agent's last acknowledged push (its latest report).",
              [](const AgentStatus& a) {
                return a.health && a.health->shipLatencyNs ? D(seconds(*a.health->shipLatencyNs))
                                                           : D();
              });
  agentFamily(out, agents, "octolaunch_agent_recording_failures_total", "counter",
              "Batches that local users (hook, deploy) handed to the agent and that it refused "
              "or could not store, since the agent started.",
              [](const AgentStatus& a) { return a.health ? U(a.health->recordingFailures) : U(); });
  out.family("octolaunch_agent_source_errors_total", "counter",
             "Problems each of the agent's host sources logged (warnings and errors), since the "
             "agent started.");
  for (const AgentStatus& a : agents) {
    if (!a.health) continue;
    for (const auto& [source, count] : a.health->sourceErrors) {
      out.sample("octolaunch_agent_source_errors_total", {{"agent", a.agentId}, {"source", source}},
                 count);
    }
  }
}

}  // namespace

void registerHealthRoutes(Router& router, ApiContext& api) {
  router.get(
      "/healthz",
      [](const httplib::Request&) {
        return JsonReply{200, {{"status", "ok"}}};
      },
      Scope::open);
  router.getRaw("/metrics", [&api](const httplib::Request&, httplib::Response& res) {
    PrometheusText out;
    writeProcessMetrics(out);
    if (api.agentStatus != nullptr) writeAgentMetrics(out, api.agentStatus->snapshot());
    std::string text = out.take();
    for (const auto& source : api.metrics) text += source();
    res.set_content(text, "text/plain; version=0.0.4");
  });
}

}  // namespace octolaunch::http
