#include "collector/analysis/timeline.h"

#include "shared/event/event_json.h"
#include "shared/util/clock.h"

#include <map>

namespace octolaunch::analysis {

nlohmann::json timelineJson(const Release& release, std::span<const DeployWindow> windows,
                            std::span<const LinkedFact> linked, const ReleaseState& state,
                            const TimelineOptions& options) {
  using nlohmann::json;
  std::map<std::string, json> hosts;
  std::map<std::string, std::size_t> omitted;
  for (const auto& h : state.hosts) {
    hosts[h.host] = {{"host", h.host}, {"state", hostStateName(h.state)}, {"reason", h.reason},
                     {"windows", json::array()}, {"events", json::array()}};
  }
  for (const auto& w : windows) hosts[w.host]["windows"].push_back(windowJson(w));
  for (const auto& l : linked) {  // already in time order
    const EventFact& f = l.fact;
    auto it = hosts.find(f.host);
    if (it == hosts.end()) {
      it = hosts.emplace(f.host, json{{"host", f.host}, {"state", "context"}, {"reason", ""},
                                      {"windows", json::array()}, {"events", json::array()}}).first;
    }
    json& events = it->second["events"];
    if (options.maxEventsPerHost && events.size() >= options.maxEventsPerHost) {
      ++omitted[f.host];
      continue;
    }
    events.push_back({{"time", formatRfc3339Ns(f.timeNs)},
                      {"time_ns", f.timeNs},
                      {"kind", f.kind},
                      {"agent_id", f.ref.agentId},
                      {"epoch", epochHex(f.ref.epoch)},
                      {"seq", f.ref.seq},
                      {"summary", f.summary},
                      {"link", linkKindName(l.how)}});
  }
  json hostList = json::array();
  for (auto& [name, h] : hosts) {
    h["events_omitted"] = omitted[name];
    hostList.push_back(std::move(h));
  }
  return {{"release", release.id},
          {"service", release.service},
          {"status", state.status},
          {"stages", stageStatesJson(stageStates(release))},
          {"events_total", linked.size()},
          {"hosts", std::move(hostList)}};
}

}  // namespace octolaunch::analysis
