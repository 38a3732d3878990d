// The evidence retention keeps longer than routine data: what failed releases need to be
// explained again later (docs/operating.md, "Retention").
//
// For each failed release (status failed, partially_failed or pipeline_failed) registered since
// a given time, the shield covers
//  * every event carrying the release's id (its hook output, hook exits, deploy markers);
//  * every event of a host during one of the release's deploy windows on that host (the OOM
//    kills, pressure, unit and container failures the causes read);
//  * every event a cause of the release cites as evidence (host and time), also outside a window.
//
// Threads: build it on any thread (it only reads, through ReleaseService); covers() is const and
// may be called from the writer thread while nothing modifies the shield.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/releases/release_service.h"
#include "collector/store/release_store.h"
#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::retention {

class EvidenceShield {
 public:
  void coverRelease(std::string release);
  // [fromNs, untilNs) on host; untilNs <= fromNs covers the single instant fromNs.
  void coverSpan(const std::string& host, std::int64_t fromNs, std::int64_t untilNs);

  // Whether the event (a hook.block: any of its lines) is evidence.
  bool covers(schema::Event::Reader event) const;
  bool covers(std::string_view release, std::string_view host, std::int64_t firstNs,
              std::int64_t lastNs) const;

  std::size_t releases() const { return releases_.size(); }
  bool empty() const { return releases_.empty() && spans_.empty(); }

 private:
  std::set<std::string, std::less<>> releases_;
  // host -> spans [from, until), sorted by from once sealed by coverSpan's insertion.
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>, std::less<>> spans_;
};

struct ShieldSummary {
  std::size_t releasesExamined = 0;  // registered since the bound
  std::size_t failedReleases = 0;    // covered by the shield
  std::size_t analysisErrors = 0;    // releases whose analysis threw (logged; not covered)
};

// Analyses every release registered at or after sinceNs and covers the failed ones' evidence.
// A release whose analysis throws is logged and counted, and the pass goes on without it.
EvidenceShield failedReleaseEvidence(releases::ReleaseService& service, ReleaseStore& releases,
                                     std::int64_t sinceNs, ShieldSummary& summary);

}  // namespace octolaunch::retention
