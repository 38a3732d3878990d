// The release operations of the collector's API, on top of the stores: registration (merge rules,
// 409 on conflicting identity), stage reports, and the analysed views (release with deploy state,
// timeline, causes, drift). The HTTP routes and tests call it; it knows nothing of HTTP.
//
// Threads: every method may run on any HTTP worker thread at once. Reads use the stores' own short
// read transactions; every write goes through the WriteSerializer (the collector's one LMDB
// writer). Errors: bad input is a Reply with a 4xx status and {"error": ...}; StoreError
// propagates.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "collector/analysis/release_analysis.h"
#include "collector/store/event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/write_serializer.h"
#include "shared/util/clock.h"

namespace octolaunch::analysis {

// EventSource over the collector's EventStore (indexed scans only).
class StoreEventSource final : public EventSource {
 public:
  explicit StoreEventSource(EventStore& store) : store_(store) {}
  void forEach(const Query& query, const std::function<bool(schema::Event::Reader)>& fn) override;

 private:
  EventStore& store_;
};

// ReleaseHistory over the release store.
class StoreReleaseHistory final : public ReleaseHistory {
 public:
  explicit StoreReleaseHistory(ReleaseStore& releases) : releases_(releases) {}
  std::optional<std::int64_t> registeredAt(const std::string& id) override;
  std::vector<std::string> previousReleases(const Release& release, std::size_t n) override;

 private:
  ReleaseStore& releases_;
};

class ReleaseService final {
 public:
  struct Reply {
    int status = 200;
    nlohmann::json body;
    std::string text;  // when not empty: the body, already JSON text (body is then unused)
  };

  // Borrows everything; all must outlive the service.
  ReleaseService(EventStore& events, ReleaseStore& releases, WriteSerializer& writer,
                 const Clock& clock, const AnalysisOptions& options);

  // GET /api/v1/releases: the newest `limit` releases (by registration time; of `service` and in
  // `environment` when not empty), each the release document with "status" and the host counts
  // of its deploy state; "total" counts every match.
  Reply list(const std::string& service, const std::string& environment, std::size_t limit);
  // POST /api/v1/releases: 201 created, 200 merged (idempotent), 400 bad body, 409 conflicting
  // service/commit/artifact digest: {"error", "conflicts": [{"field","registered","requested"}]}.
  Reply registerRelease(const std::string& body);
  // POST /api/v1/releases/{id}/stages: 200 with the release, 404 unknown id, 400 bad body.
  Reply addStage(const std::string& id, const std::string& body);
  // GET /api/v1/releases/{id}[/timeline|/causes]: 404 unknown id.
  Reply view(const std::string& id);
  Reply timeline(const std::string& id);
  Reply causes(const std::string& id);
  // GET /api/v1/drift?service=S[&environment=E][&since=T]: 400 without service.
  Reply drift(const std::string& service, const std::string& environment,
              std::optional<std::int64_t> sinceNs);

  // The analysis of a registered release; nullopt when the id is unknown.
  std::optional<ReleaseAnalysis> analyze(const std::string& id, Detail detail = Detail::all);

 private:
  EventStore& events_;
  ReleaseStore& releases_;
  WriteSerializer& writer_;
  const Clock& clock_;
  const AnalysisOptions& options_;
};

}  // namespace octolaunch::analysis
