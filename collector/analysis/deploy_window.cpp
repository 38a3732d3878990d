#include "collector/analysis/deploy_window.h"

#include <algorithm>
#include <set>

#include "shared/util/clock.h"

namespace octolaunch::analysis {

namespace {

struct Marker {
  std::int64_t timeNs;
  bool start;
  std::string release;
  Outcome outcome;
  EventRef ref;
};

// Markers of one host, oldest first, deduplicated by ref.
using HostMarkers = std::map<std::string, std::vector<Marker>>;

HostMarkers collectMarkers(const Release& release, std::span<const EventFact> tagged,
                           std::span<const EventFact> markers) {
  HostMarkers out;
  std::set<EventRef> seen;
  auto add = [&](const EventFact& f) {
    if (f.type != FactKind::DEPLOY_START && f.type != FactKind::DEPLOY_FINISH) return;
    bool ours = f.release == release.id;
    // Another release's marker counts only when it names the same service.
    if (!ours && (f.release.empty() || f.service != release.service)) return;
    if (!seen.insert(f.ref).second) return;
    out[f.host].push_back(
        {f.timeNs, f.type == FactKind::DEPLOY_START, f.release, f.outcome, f.ref});
  };
  for (const auto& f : tagged) add(f);
  for (const auto& f : markers) add(f);
  for (auto& [host, list] : out) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Marker& a, const Marker& b) { return a.timeNs < b.timeNs; });
  }
  return out;
}

// Older/newer: the earlier of the registration time and the first deploy.start seen (CI may
// register a release after rolling it out).
std::int64_t orderKey(const std::string& id, const ReleaseOrder& order,
                      const HostMarkers& markers) {
  std::int64_t first = INT64_MAX;
  if (auto it = order.find(id); it != order.end()) first = it->second;
  for (const auto& [host, list] : markers) {
    for (const auto& m : list) {
      if (m.start && m.release == id) first = std::min(first, m.timeNs);
    }
  }
  return first;
}

void windowsOnHost(const Release& release, const std::string& host, const std::vector<Marker>& list,
                   const ReleaseOrder& order, const HostMarkers& all, const WindowOptions& opt,
                   std::vector<DeployWindow>& out) {
  const std::size_t n = list.size();
  std::size_t i = 0;
  while (i < n) {
    if (!(list[i].start && list[i].release == release.id)) {
      ++i;
      continue;
    }
    DeployWindow w;
    w.host = host;
    w.startNs = list[i].timeNs;
    w.startRef = list[i].ref;
    // The newest other release started on this host before us: if it is newer, this is a rollback.
    for (std::size_t k = i; k-- > 0;) {
      if (list[k].start && list[k].release != release.id) {
        if (orderKey(list[k].release, order, all) > orderKey(release.id, order, all)) {
          w.rollback = true;
          w.rolledBackFrom = list[k].release;
        }
        break;
      }
    }
    std::optional<std::int64_t> supersededAt;
    std::size_t j = i + 1;
    for (; j < n; ++j) {
      const Marker& m = list[j];
      if (m.release != release.id) {
        if (m.start) {
          w.supersededBy = m.release;
          supersededAt = m.timeNs;
          break;
        }
        continue;
      }
      if (!m.start && !w.finishNs) {
        w.finishNs = m.timeNs;
        w.finishRef = m.ref;
        w.outcome = m.outcome;
        continue;
      }
      if (m.start && w.finishNs) break;  // a new deploy of the same release: its own window
      // A second start before any finish: a retry inside the same window.
    }
    w.endNs = w.finishNs ? *w.finishNs + opt.graceNs : w.startNs + opt.maxOpenNs;
    w.unfinished = !w.finishNs;
    if (supersededAt && *supersededAt < w.endNs) {
      w.endNs = *supersededAt;
    } else {
      w.supersededBy.clear();  // the next release came after this window had closed anyway
    }
    out.push_back(std::move(w));
    i = j;
  }
}

}  // namespace

std::vector<DeployWindow> computeWindows(const Release& release, std::span<const EventFact> tagged,
                                         std::span<const EventFact> markers,
                                         const ReleaseOrder& order, const WindowOptions& options) {
  HostMarkers byHost = collectMarkers(release, tagged, markers);
  std::vector<DeployWindow> out;
  for (const auto& [host, list] : byHost)
    windowsOnHost(release, host, list, order, byHost, options, out);

  // Hosts with the release's events but no deploy.start of it: infer the window from those events.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> spans;
  for (const auto& f : tagged) {
    auto [it, fresh] = spans.try_emplace(f.host, f.timeNs, f.timeNs);
    if (!fresh) {
      it->second.first = std::min(it->second.first, f.timeNs);
      it->second.second = std::max(it->second.second, f.timeNs);
    }
  }
  for (const auto& [host, span] : spans) {
    bool covered = std::any_of(out.begin(), out.end(),
                               [&h = host](const DeployWindow& w) { return w.host == h; });
    if (covered) continue;
    DeployWindow w;
    w.host = host;
    w.startNs = span.first;
    w.endNs = span.second + options.graceNs;
    w.inferred = true;
    // A deploy.finish without a start still tells the outcome.
    for (const auto& f : tagged) {
      if (f.host == host && f.type == FactKind::DEPLOY_FINISH) {
        w.finishNs = f.timeNs;
        w.finishRef = f.ref;
        w.outcome = f.outcome;
      }
    }
    out.push_back(std::move(w));
  }
  std::sort(out.begin(), out.end(), [](const DeployWindow& a, const DeployWindow& b) {
    return a.host != b.host ? a.host < b.host : a.startNs < b.startNs;
  });
  return out;
}

nlohmann::json windowJson(const DeployWindow& w) {
  nlohmann::json j = {{"start", formatRfc3339Ns(w.startNs)},
                      {"start_ns", w.startNs},
                      {"end", formatRfc3339Ns(w.endNs)},
                      {"end_ns", w.endNs},
                      {"outcome", w.outcome == Outcome::ok       ? "ok"
                                  : w.outcome == Outcome::failed ? "failed"
                                                                 : "unknown"},
                      {"unfinished", w.unfinished},
                      {"inferred", w.inferred},
                      {"rollback", w.rollback}};
  j["finish"] = w.finishNs ? nlohmann::json(formatRfc3339Ns(*w.finishNs)) : nlohmann::json(nullptr);
  if (w.rollback) j["rolled_back_from"] = w.rolledBackFrom;
  if (!w.supersededBy.empty()) j["superseded_by"] = w.supersededBy;
  return j;
}

}  // namespace octolaunch::analysis
