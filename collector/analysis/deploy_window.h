// Deploy windows: when a release was being rolled out on each host.
//
// A window opens at the release's deploy.start on a host and ends at its deploy.finish plus a grace
// period (default 15 min). Without a deploy.finish it closes after a maximum (default 1 h) and is
// marked unfinished. A deploy.start of another release of the same service on that host ends the
// window there (superseded). Starting a release on a host after a newer release of the service was
// started there is a rollback. A host that reported events carrying the release id but no deploy
// markers gets an inferred window (first to last such event, plus grace), so hook-only deploys
// link.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collector/analysis/event_fact.h"
#include "collector/analysis/release_model.h"

namespace octolaunch::analysis {

struct WindowOptions {
  std::int64_t graceNs = 15LL * 60 * 1'000'000'000;
  std::int64_t maxOpenNs = 60LL * 60 * 1'000'000'000;
};

struct DeployWindow {
  std::string host;
  std::int64_t startNs = 0;
  std::optional<std::int64_t> finishNs;  // the deploy.finish that closed it
  std::int64_t endNs = 0;                // events before endNs belong to the window
  Outcome outcome = Outcome::unknown;    // deploy.finish's outcome
  bool unfinished = false;               // no deploy.finish: closed after the maximum
  bool inferred = false;                 // no deploy markers: from the release's own events
  std::string supersededBy;              // the release whose deploy.start ended this window
  bool rollback = false;
  std::string rolledBackFrom;  // the newer release this one replaced
  std::optional<EventRef> startRef;
  std::optional<EventRef> finishRef;
};

// Release id -> registration time, to tell an older release from a newer one (rollbacks). A release
// is as old as the earlier of its registration and its first deploy.start among the markers.
using ReleaseOrder = std::map<std::string, std::int64_t, std::less<>>;

// tagged: events carrying the release id (any kind). markers: deploy.start/deploy.finish events on
// the release's hosts of any release (those of other services are ignored). Returns the windows
// ordered by host, then start.
std::vector<DeployWindow> computeWindows(const Release& release, std::span<const EventFact> tagged,
                                         std::span<const EventFact> markers,
                                         const ReleaseOrder& order, const WindowOptions& options);

nlohmann::json windowJson(const DeployWindow& window);

}  // namespace octolaunch::analysis
