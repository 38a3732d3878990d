// GET /api/v1/hosts -> {"hosts":
// [{"agent_id","host","last_seen","epoch","last_seq","events_stored","clock_offset_ms",
// "clock_uncertainty_ms","clock_sampled"}]} epoch as 16 hex digits (as in events), last_seen RFC
// 3339; counts are for the current epoch. clock_offset_ms is the collector's clock minus the
// agent's (positive: the agent is behind), clock_uncertainty_ms half the sample's round trip plus
// the analysis's floor; the three clock fields are null until the agent reported a measurement.
#include "collector/analysis/host_clock.h"
#include "collector/http/routes/routes.h"
#include "shared/event/event_json.h"

namespace octolaunch::http {

void registerHostRoutes(Router& router, ApiContext& api) {
  router.get("/api/v1/hosts", [&api](const httplib::Request&) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const HostInfo& h : api.events.hosts()) {
      hosts.push_back({{"agent_id", h.agentId},
                       {"host", h.host},
                       {"last_seen", formatRfc3339Ns(h.lastSeenNs)},
                       {"epoch", epochHex(h.epoch)},
                       {"last_seq", h.lastSeq},
                       {"events_stored", h.eventsStored},
                       {"clock_offset_ms", nullptr},
                       {"clock_uncertainty_ms", nullptr},
                       {"clock_sampled", nullptr}});
      if (h.clock) {
        const analysis::HostClock c =
            analysis::measuredClock(h.clock->offsetNs, h.clock->roundTripNs);
        hosts.back()["clock_offset_ms"] = static_cast<double>(c.offsetNs) / 1e6;
        hosts.back()["clock_uncertainty_ms"] = static_cast<double>(c.uncertaintyNs) / 1e6;
        hosts.back()["clock_sampled"] = formatRfc3339Ns(h.clock->receivedNs);
      }
    }
    return JsonReply{200, {{"hosts", std::move(hosts)}}};
  });
}

}  // namespace octolaunch::http
