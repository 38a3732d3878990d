// The release as CI registers it: identity, artifact, CI pointers, pipeline stages and target
// hosts.
//
// Contract
//  * A release id is unique across services. Registering an id again merges (mergeRelease): what is
//    new accumulates (job URLs, stage reports, target hosts; empty fields are filled in); a
//    different non-empty service, commit or artifact digest is a conflict naming those fields, and
//    nothing changes.
//  * The JSON produced by releaseToJson() is both the API's view and the stored document;
//    releaseFromJson() reads either a POST body or a stored document and rejects bad input with a
//    message that names the field (never throws for bad input).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace octolaunch::analysis {

enum class StageStatus { started, ok, failed };

// One report of the pipeline about a stage ("build started", "push failed").
struct StageReport {
  std::string name;  // build, test, push, deploy, ...
  StageStatus status = StageStatus::started;
  std::string jobUrl;
  std::int64_t timeNs = 0;  // when the collector received the report (or the time CI gave)
  bool operator==(const StageReport&) const = default;
};

// The latest state of one stage, folded from its reports.
struct StageState {
  std::string name;
  StageStatus status = StageStatus::started;
  std::string jobUrl;          // the last non-empty job URL reported for the stage
  std::int64_t startedNs = 0;  // first report
  std::int64_t updatedNs = 0;  // last report
};

struct Release {
  std::string id;
  std::string service;
  std::string version;
  std::string commit;
  std::string artifactDigest;  // "sha256:<hex>"
  std::string artifactUri;
  std::string ciRunUrl;
  std::vector<std::string> jobUrls;  // every job that registered, in registration order
  std::string environment;
  std::vector<std::string> targetHosts;
  std::vector<StageReport> stages;  // in arrival order
  std::int64_t createdNs = 0;
  std::int64_t updatedNs = 0;
};

template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // set when value is empty: names the bad field
};

const char* stageStatusName(StageStatus status);
std::optional<StageStatus> parseStageStatus(const std::string& name);

// Reads a POST /api/v1/releases body or a stored document. Accepts "ci_job_url" (string) and
// "ci_job_urls" (array), "target_host" and "target_hosts". nowNs stamps createdNs/updatedNs when
// the document has none.
Parsed<Release> releaseFromJson(const nlohmann::json& body, std::int64_t nowNs);
// A POST /api/v1/releases/{id}/stages body: {"name","status","job_url"?,"time"?}.
Parsed<StageReport> stageFromJson(const nlohmann::json& body, std::int64_t nowNs);

nlohmann::json releaseToJson(const Release& release);
nlohmann::json stageStatesJson(const std::vector<StageState>& stages);

struct MergeResult {
  Release merged;                      // existing when there are conflicts
  std::vector<std::string> conflicts;  // "service", "commit", "artifact_digest"
  bool changed = false;                // merged differs from existing
};
MergeResult mergeRelease(const Release& existing, const Release& incoming, std::int64_t nowNs);

// Appends a stage report unless the same (name, status, job URL) was reported already.
// Returns whether the release changed.
bool addStage(Release& release, const StageReport& report, std::int64_t nowNs);

// The stages folded to their latest state, in order of first report.
std::vector<StageState> stageStates(const Release& release);

// The CI job a person should open for a deploy problem: the deploy stage's job, else the last
// registered job URL, else the CI run URL; empty when CI told us nothing.
std::string deployJobUrl(const Release& release);

}  // namespace octolaunch::analysis
