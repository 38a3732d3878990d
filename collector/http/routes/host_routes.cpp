// GET /api/v1/hosts -> {"hosts":
// [{"agent_id","host","last_seen","epoch","last_seq","events_stored"}]} epoch as 16 hex digits (as
// in events), last_seen RFC 3339; counts are for the current epoch.
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
                       {"events_stored", h.eventsStored}});
    }
    return JsonReply{200, {{"hosts", std::move(hosts)}}};
  });
}

}  // namespace octolaunch::http
