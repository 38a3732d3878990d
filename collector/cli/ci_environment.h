// Filling a release registration from the CI provider's environment when flags are absent:
//   GitHub Actions: commit GITHUB_SHA; run URL
//   GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID
//                   (+ /attempts/GITHUB_RUN_ATTEMPT when it is > 1)
//   GitLab CI:      commit CI_COMMIT_SHA; run URL CI_PIPELINE_URL; job URL CI_JOB_URL
// A field the body already has is never overwritten. Variables that are empty count as absent.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace octolaunch::cli {

// Returns the variable's value, or nullptr when unset (std::getenv in the CLI, a map in tests).
using GetEnv = std::function<const char*(const char*)>;

// Adds "commit", "ci_run_url" and "ci_job_urls" to a POST /api/v1/releases body.
void fillReleaseFromCi(nlohmann::json& body, const GetEnv& getenv);

// The job URL for a stage report: CI_JOB_URL (GitLab), else the GitHub run URL; "" when neither.
std::string ciJobUrl(const GetEnv& getenv);

}  // namespace octolaunch::cli
