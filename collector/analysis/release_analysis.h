// One release analysed end to end: fetch its events through EventSource in indexed ranges (never a
// full scan), compute windows, link, deploy state; then causes, timeline and the release view.
//
// Threads: analyzeRelease() is a pure function of its inputs and the source's answers; call it from
// any thread (the HTTP pool). It holds no state between calls. Errors thrown by the source
// propagate.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/analysis/cause_ranker.h"
#include "collector/analysis/deploy_state.h"
#include "collector/analysis/deploy_window.h"
#include "collector/analysis/linker.h"
#include "collector/analysis/release_model.h"
#include "collector/analysis/service_match.h"
#include "collector/analysis/timeline.h"
#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::analysis {

// Read access to stored events. The collector's adapter (collector/releases/store_sources.h)
// forwards to EventStore::forEachEvent; tests use an in-memory fake.
class EventSource {
 public:
  struct Query {
    std::string release;                  // empty: any
    std::string host;                     // empty: any
    std::string kind;                     // empty: any
    std::optional<std::int64_t> sinceNs;  // inclusive
    std::optional<std::int64_t> untilNs;  // exclusive
    // Hints a source may honour (the store does, from its indexes) or ignore: leave out hook.output
    // lines on stdout (reporting each one's time and host to onSkippedHookStdout instead), and
    // events that carry a release id. The analysis gives the same answer either way.
    bool skipHookStdout = false;
    bool skipWithRelease = false;
    std::function<void(std::int64_t timeNs, std::string_view host)> onSkippedHookStdout;
  };
  virtual ~EventSource() = default;
  // Calls fn for every matching event, oldest first, until fn returns false. The Reader is valid
  // only during the call.
  virtual void forEach(const Query& query,
                       const std::function<bool(schema::Event::Reader)>& fn) = 0;

  // The clock sample each host's agent reported (rpc.capnp, ClockOffset), by host; hosts
  // without one are left out. A host with several agents: the one seen last.
  struct ClockReading {
    std::int64_t offsetNs = 0;  // collector clock minus agent clock
    std::int64_t roundTripNs = 0;
  };
  virtual std::map<std::string, ClockReading> clockReadings() { return {}; }
};

// What the collector knows about other releases (the release store). Optional: without it, the
// options' order and previousReleases are used as given.
class ReleaseHistory {
 public:
  virtual ~ReleaseHistory() = default;
  // When the release was registered; nullopt when it is unknown.
  virtual std::optional<std::int64_t> registeredAt(const std::string& id) = 0;
  // Releases of the same service registered before `release`, newest first, at most n.
  virtual std::vector<std::string> previousReleases(const Release& release, std::size_t n) = 0;
};

struct AnalysisOptions {
  WindowOptions window;
  ServiceMappings mappings;
  // How far before a host's first event of the release to look for the deploy it replaced.
  std::int64_t markerLookbackNs = 24LL * 3600 * 1'000'000'000;
  // Earlier releases of the same service, newest first: the last one that finished ok on a host
  // gives that host's baseline fingerprints (config-drift, dependency-change). At most 5 are read.
  std::vector<std::string> previousReleases;
  // Registration times of releases of the service (rollback detection).
  ReleaseOrder order;
  TimelineOptions timeline;
  CauseOptions causes;
  // How far before a host's window to look for conditions still true at its start (a disk that
  // filled, a unit that failed, pressure that had not cleared).
  std::int64_t conditionLookbackNs = 24LL * 3600 * 1'000'000'000;
  // A unit or container failure before the window counts as present only this close to its start
  // (or when found at agent start): the deploy restarts what it deploys.
  std::int64_t recentFailureNs = 10LL * 60 * 1'000'000'000;
  // Clock uncertainty: half a measured round trip plus the floor; hosts never measured get the
  // unmeasured value.
  std::int64_t clockFloorNs = kClockFloorNs;
  std::int64_t unmeasuredClockUncertaintyNs = kUnmeasuredClockUncertaintyNs;
};

struct ReleaseAnalysis {
  Release release;
  std::vector<DeployWindow> windows;
  std::vector<LinkedFact> linked;  // time order
  ReleaseState state;
  Baselines baselines;
  WindowOptions windowOptions;
  CauseOptions causeOptions;
  HostClocks clocks;
  std::size_t eventsRead = 0;  // events the source returned (a measure of the work done)

  CauseReport causes() const;
  nlohmann::json causesJson() const;
  nlohmann::json timelineJson(const TimelineOptions& options = {}) const;
  std::string timelineText(const TimelineOptions& options = {}) const;  // the same, as JSON text
  // GET /api/v1/releases/{id}: the release document plus status, per-host deploy state and windows.
  nlohmann::json viewJson() const;
};

// history may be null. Asks it only for the releases seen in deploy markers (order) and, when a
// host failed, for the previous releases (baselines).
// Detail::withoutHookStdout: hook.output lines on stdout are not read (most of a deploy's events,
// and neither deploy state nor causes look at them) — for causes and the release view; a timeline
// needs Detail::all. Windows are the same either way: the skipped lines' hosts and times count.
enum class Detail { all, withoutHookStdout };
ReleaseAnalysis analyzeRelease(const Release& release, EventSource& source,
                               const AnalysisOptions& options, std::int64_t nowNs,
                               ReleaseHistory* history = nullptr, Detail detail = Detail::all);

// `octolaunch drift`: the latest fingerprints per host of a service (read by kind since sinceNs)
// and the hosts that differ from the majority. environmentOf (may be empty) maps a release id to
// its environment; with `environment` set, only hosts whose fingerprint's release is in it count.
nlohmann::json driftReport(EventSource& source, const std::string& service, std::int64_t sinceNs,
                           const std::string& environment,
                           const std::function<std::string(const std::string&)>& environmentOf);

}  // namespace octolaunch::analysis
