// Linking: which events belong to a release.
//
// An event belongs to release R when it carries R's id (LinkKind::release), or when it happened on
// a host inside one of R's deploy windows and concerns R's service (LinkKind::service); host-wide
// exhaustion (disk, inodes, fds, pressure) and OOM kills of other processes inside a window are
// linked as context (LinkKind::context). Events that carry another release's id never link.
//
// The linker never scans the store. Its caller fetches in three rounds, each an indexed range:
//   1. events by release id                       -> tagged
//   2. deploy markers per markerRanges(tagged)    -> computeWindows(...)
//   3. events per windowRanges(windows)           -> linkEvents(...)
// Linking happens at query time, so a release registered late links retroactively.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "collector/analysis/deploy_window.h"
#include "collector/analysis/event_fact.h"
#include "collector/analysis/release_model.h"
#include "collector/analysis/service_match.h"

namespace octolaunch::analysis {

// Events of one host with sinceNs <= timeNs < untilNs.
struct HostRange {
  std::string host;
  std::int64_t sinceNs = 0;
  std::int64_t untilNs = 0;
};

enum class LinkKind { release, service, context };
const char* linkKindName(LinkKind kind);

struct LinkedFact {
  EventFact fact;
  LinkKind how = LinkKind::release;
  bool present = false;  // a condition raised before the window and not cleared by its start
};

// Where deploy markers (deploy.start, deploy.finish) that shape R's windows can be: per host that
// reported R, from `lookbackNs` before its first event (to see the release it replaced: rollbacks)
// to maxOpen after its last.
std::vector<HostRange> markerRanges(std::span<const EventFact> tagged, const WindowOptions& options,
                                    std::int64_t lookbackNs);

// The ranges to fetch for linking: one per window, overlapping windows of a host merged.
std::vector<HostRange> windowRanges(std::span<const DeployWindow> windows);

// Links tagged (carrying R's id) and candidate events (fetched by windowRanges; may repeat tagged
// ones). Returns each linked event once, ordered by time, then host, then ref.
// prior: conditions still true when a window opened (conditionsAtStart()); linked like candidates
// but without the window test, and marked present.
std::vector<LinkedFact> linkEvents(const Release& release, std::span<const DeployWindow> windows,
                                   std::vector<EventFact> tagged, std::vector<EventFact> candidates,
                                   const ServiceMappings& mappings,
                                   std::vector<EventFact> prior = {});

// The kinds whose latest state before a window can still be true at its start: exhaustion
// (disk, inodes, fds), pressure, failed units and dead containers.
std::span<const char* const> conditionKinds();

// Of `facts` (events of conditionKinds() from before the windows, any order), the latest per
// (host, kind, mount / unit / container) before that host's first window start, kept when it
// still holds there: exhaustion and pressure raised and not cleared; a unit or container failure
// found at agent start or within `recentNs` of the start. Facts of hosts without a window and
// facts carrying a release id are dropped.
std::vector<EventFact> conditionsAtStart(std::span<const DeployWindow> windows,
                                         std::vector<EventFact> facts, std::int64_t recentNs);

}  // namespace octolaunch::analysis
