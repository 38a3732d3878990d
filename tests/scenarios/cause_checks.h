// What scenario tests ask of a causes answer, and the deploy step every scenario runs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/scenarios/fleet.h"

namespace octolaunch::testing {

// A release as CI registers it: version, commit, run and job URLs, target hosts.
inline nlohmann::json ciRelease(const std::string& jobUrl, std::vector<std::string> targets = {}) {
  return {{"version", "1.4.0"},
          {"commit", "9f2c1e7d"},
          {"ci_run_url", "https://ci.example.com/acme/api/runs/812"},
          {"ci_job_urls", {jobUrl}},
          {"target_hosts", targets}};
}

inline const nlohmann::json& topCause(const nlohmann::json& answer) {
  static const nlohmann::json none = nlohmann::json::object();
  if (!answer.contains("causes") || answer["causes"].empty()) return none;
  return answer["causes"][0];
}

inline bool mentions(const nlohmann::json& value, const std::string& needle) {
  return value.dump().find(needle) != std::string::npos;
}

inline bool evidenceHasKind(const nlohmann::json& cause, const std::string& kind) {
  for (const auto& e : cause.value("evidence", nlohmann::json::array())) {
    if (e.value("kind", "") == kind) return true;
  }
  return false;
}

inline bool anyCauseHasEvidenceKind(const nlohmann::json& answer, const std::string& kind) {
  for (const auto& c : answer["causes"]) {
    if (evidenceHasKind(c, kind)) return true;
  }
  return false;
}

// Runs a three-step deploy (start, one hook, finish) of service api on host; returns the hook's
// exit code.
inline int deployWithHook(Fleet& fleet, const std::string& host, const std::string& release,
                          const std::string& phase, const std::string& script) {
  fleet.deploy(host, "start", release, "api");
  int rc = fleet.hook(host, release, "api", phase, script);
  fleet.deploy(host, "finish", release, "api", rc == 0 ? "ok" : "failed");
  return rc;
}

}  // namespace octolaunch::testing
