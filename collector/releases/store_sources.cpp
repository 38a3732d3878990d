#include "collector/releases/store_sources.h"

#include <algorithm>

namespace octolaunch::releases {

void StoreEventSource::forEach(const Query& q,
                               const std::function<bool(schema::Event::Reader)>& fn) {
  EventQuery query;
  query.release = q.release;
  query.host = q.host;
  query.kind = q.kind;
  query.sinceNs = q.sinceNs;
  query.untilNs = q.untilNs;
  query.skipHookStdout = q.skipHookStdout;
  query.skipWithRelease = q.skipWithRelease;
  query.onSkippedHookStdout = q.onSkippedHookStdout;
  store_.forEachEvent(query, fn);
}

std::map<std::string, analysis::EventSource::ClockReading> StoreEventSource::clockReadings() {
  std::map<std::string, ClockReading> out;
  std::map<std::string, std::int64_t> seen;
  for (const HostInfo& h : store_.hosts()) {
    if (!h.clock) continue;
    auto [it, fresh] = seen.try_emplace(h.host, h.lastSeenNs);
    if (!fresh && it->second > h.lastSeenNs) continue;
    it->second = h.lastSeenNs;
    out[h.host] = {h.clock->offsetNs, h.clock->roundTripNs};
  }
  return out;
}

std::optional<std::int64_t> StoreReleaseHistory::registeredAt(const std::string& id) {
  auto doc = releases_.get(id);
  if (!doc) return std::nullopt;
  auto r = analysis::releaseFromJson(*doc, 0);
  if (!r.value || r.value->createdNs == 0) return std::nullopt;
  return r.value->createdNs;
}

std::vector<std::string> StoreReleaseHistory::previousReleases(const analysis::Release& release,
                                                               std::size_t n) {
  std::vector<std::string> out =
      releases_.previousOfService(release.service, release.environment, release.createdNs, n + 1);
  std::erase(out, release.id);
  if (out.size() > n) out.resize(n);
  return out;
}

}  // namespace octolaunch::releases
