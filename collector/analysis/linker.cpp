#include "collector/analysis/linker.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace octolaunch::analysis {

const char* linkKindName(LinkKind kind) {
  switch (kind) {
    case LinkKind::release:
      return "release";
    case LinkKind::service:
      return "service";
    case LinkKind::context:
      return "context";
  }
  return "release";
}

std::vector<HostRange> markerRanges(std::span<const EventFact> tagged, const WindowOptions& options,
                                    std::int64_t lookbackNs) {
  std::map<std::string, HostRange> byHost;
  for (const auto& f : tagged) {
    auto [it, fresh] = byHost.try_emplace(f.host, HostRange{f.host, f.timeNs, f.timeNs});
    if (!fresh) {
      it->second.sinceNs = std::min(it->second.sinceNs, f.timeNs);
      it->second.untilNs = std::max(it->second.untilNs, f.timeNs);
    }
  }
  std::vector<HostRange> out;
  for (auto& [host, r] : byHost) {
    r.sinceNs -= std::max(lookbackNs, options.maxOpenNs);
    r.untilNs += options.maxOpenNs + 1;
    out.push_back(r);
  }
  return out;
}

std::vector<HostRange> windowRanges(std::span<const DeployWindow> windows) {
  std::vector<HostRange> out;
  for (const auto& w : windows) {  // ordered by host, then start
    if (!out.empty() && out.back().host == w.host && w.startNs <= out.back().untilNs) {
      out.back().untilNs = std::max(out.back().untilNs, w.endNs);
      continue;
    }
    out.push_back({w.host, w.startNs, w.endNs});
  }
  return out;
}

namespace {

bool inWindow(const EventFact& f, std::span<const DeployWindow> windows) {
  for (const auto& w : windows) {
    if (w.host == f.host && f.timeNs >= w.startNs && f.timeNs < w.endNs) return true;
  }
  return false;
}

}  // namespace

std::span<const char* const> conditionKinds() {
  static constexpr const char* kKinds[] = {"disk.full",       "inode.exhausted",  "fd.exhausted",
                                           "pressure.memory", "pressure.io",      "pressure.cpu",
                                           "unit.failed",     "container.failed", "container.oom"};
  return kKinds;
}

std::vector<EventFact> conditionsAtStart(std::span<const DeployWindow> windows,
                                         std::vector<EventFact> facts, std::int64_t recentNs) {
  std::map<std::string, std::int64_t> firstStart;  // host -> its first window's start
  for (const auto& w : windows) firstStart.try_emplace(w.host, w.startNs);
  std::map<std::tuple<std::string, std::string, std::string>, EventFact*> latest;
  for (auto& f : facts) {
    auto start = firstStart.find(f.host);
    if (!f.release.empty() || start == firstStart.end() || f.timeNs >= start->second) continue;
    std::string what = !f.mount.empty() ? f.mount : !f.unit.empty() ? f.unit : f.containerName;
    EventFact*& slot = latest[{f.host, f.kind, what}];
    if (!slot || slot->timeNs <= f.timeNs) slot = &f;
  }
  std::vector<EventFact> out;
  for (auto& [key, f] : latest) {
    bool holds = false;
    switch (f->type) {
      case FactKind::UNIT_FAILED:
      case FactKind::CONTAINER_FAILED:
      case FactKind::CONTAINER_OOM:
        holds = f->atStart || firstStart[f->host] - f->timeNs <= recentNs;
        break;
      default:
        holds = f->raised;
        break;
    }
    if (holds) out.push_back(std::move(*f));
  }
  return out;
}

std::vector<LinkedFact> linkEvents(const Release& release, std::span<const DeployWindow> windows,
                                   std::vector<EventFact> tagged, std::vector<EventFact> candidates,
                                   const ServiceMappings& mappings, std::vector<EventFact> prior) {
  std::vector<LinkedFact> out;
  out.reserve(tagged.size() + candidates.size() / 4 + prior.size());
  for (auto& f : tagged) {
    if (f.release == release.id) out.push_back({std::move(f), LinkKind::release});
  }
  auto link = [&](EventFact& f, bool present) {
    if (f.release == release.id) {
      out.push_back({std::move(f), LinkKind::release, present});
      return;
    }
    if (!f.release.empty()) return;  // another release's event
    if (!present && !inWindow(f, windows)) return;
    LinkKind how;
    if (concernsService(f, release.service, mappings)) {
      how = LinkKind::service;
    } else if (f.service.empty() && isHostContext(f)) {
      how = LinkKind::context;
    } else {
      return;
    }
    out.push_back({std::move(f), how, present});
  };
  for (auto& f : candidates) link(f, false);
  for (auto& f : prior) link(f, true);
  // Sort an index, then move each (large) fact once; an event read twice (overlapping queries)
  // sorts next to itself and is kept once, with the first (strongest) link.
  std::vector<std::uint32_t> order(out.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
    const EventFact& a = out[x].fact;
    const EventFact& b = out[y].fact;
    if (a.timeNs != b.timeNs) return a.timeNs < b.timeNs;
    if (a.host != b.host) return a.host < b.host;
    if (a.ref != b.ref) return a.ref < b.ref;
    return x < y;
  });
  std::vector<LinkedFact> sorted;
  sorted.reserve(out.size());
  for (std::uint32_t i : order) {
    if (!sorted.empty() && sorted.back().fact.ref == out[i].fact.ref) continue;
    sorted.push_back(std::move(out[i]));
  }
  return sorted;
}

}  // namespace octolaunch::analysis
