// The release operations of the collector, on top of its stores: registration (merge rules,
// conflicting identity), stage reports, and the analysed views (release with deploy state,
// timeline, causes, drift). It speaks no HTTP: each operation returns the document it produced or
// a Failure of a kind, and the caller (the HTTP routes) chooses status codes and error bodies.
//
// Threads: every method may run on any thread, several at once. Reads use the stores' own short
// read transactions; every write goes through the WriteSerializer (the collector's one LMDB
// writer).
// Errors: bad input, unknown ids and conflicts are returned (Failure, or nullopt where the only
// failure is an unknown id), never thrown; StoreError from the stores propagates.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "collector/analysis/release_analysis.h"
#include "collector/store/event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/write_serializer.h"
#include "shared/util/clock.h"

namespace octolaunch::releases {

// One identity field of a registration that disagrees with the registered release.
struct FieldConflict {
  std::string field;       // "service", "commit" or "artifact_digest"
  std::string registered;  // the stored value
  std::string requested;   // the value of the refused registration
};

struct Failure {
  enum class Kind {
    notFound,  // the release id is not registered
    badInput,  // a document or argument is malformed; message names the field
    conflict,  // the id is registered with another identity; conflicts names the fields
  };
  Kind kind = Kind::badInput;
  std::string message;  // one line for a person, e.g. "status: expected started, ok or failed"
  std::vector<FieldConflict> conflicts;  // kind == conflict only
};

// The value of an operation, or the Failure that stopped it. Implicit from either, so an operation
// returns a value or a Failure as it is.
template <typename T>
class Result {
 public:
  Result(T value) : outcome_(std::in_place_type<T>, std::move(value)) {}
  Result(Failure failure) : outcome_(std::in_place_type<Failure>, std::move(failure)) {}
  bool ok() const { return std::holds_alternative<T>(outcome_); }
  // Only when ok().
  T& value() { return std::get<T>(outcome_); }
  // Only when !ok().
  const Failure& failure() const { return std::get<Failure>(outcome_); }

 private:
  std::variant<T, Failure> outcome_;
};

struct Registration {
  nlohmann::json release;  // the release document as stored after the merge
  bool created = false;    // false: the id was registered already and this merged into it
};

struct ReleasePage {
  nlohmann::json releases = nlohmann::json::array();  // summaries, newest first
  std::size_t total = 0;                              // every release that matched
};

class ReleaseService final {
 public:
  // Borrows everything; all must outlive the service.
  ReleaseService(EventStore& events, ReleaseStore& releases, WriteSerializer& writer,
                 const Clock& clock, const analysis::AnalysisOptions& options);

  // The newest `limit` releases by registration time (of `service` and in `environment` when not
  // empty), each the release document with "status" and the host counts of its deploy state.
  ReleasePage list(const std::string& service, const std::string& environment, std::size_t limit);
  // Registers body (a registration document) or merges it into the release of the same id.
  // badInput names the bad field; conflict when service, commit or artifact digest differ from
  // the registered ones, and then nothing changes.
  Result<Registration> registerRelease(const nlohmann::json& body);
  // Records a stage report (body: {"name","status","job_url"?,"time"?}); returns the release
  // document. notFound for an unregistered id, badInput naming the field.
  Result<nlohmann::json> addStage(const std::string& id, const nlohmann::json& body);
  // The analysed views of a registered release; nullopt when the id is unknown.
  // view: the release document with status, per-host deploy state and windows.
  std::optional<nlohmann::json> view(const std::string& id);
  // timeline: events per host in time order with deploy windows, already JSON text.
  std::optional<std::string> timelineText(const std::string& id);
  // causes: {"release","status","advice","causes":[...]}.
  std::optional<nlohmann::json> causes(const std::string& id);
  // The latest fingerprints per host of a service since sinceNs (default: the last 30 days) and
  // the hosts that differ from the majority. badInput when service is empty.
  Result<nlohmann::json> drift(const std::string& service, const std::string& environment,
                               std::optional<std::int64_t> sinceNs);

  // The analysis of a registered release; nullopt when the id is unknown.
  std::optional<analysis::ReleaseAnalysis> analyze(const std::string& id,
                                                   analysis::Detail detail = analysis::Detail::all);

 private:
  EventStore& events_;
  ReleaseStore& releases_;
  WriteSerializer& writer_;
  const Clock& clock_;
  const analysis::AnalysisOptions& options_;
};

}  // namespace octolaunch::releases
