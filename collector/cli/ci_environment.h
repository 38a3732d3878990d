// What a CI job's environment tells about the release it builds, for `release create` and
// `release stage` when their flags are absent. Flags always win; variables that are empty count
// as absent; outside CI nothing is filled.
//
//                 GitHub Actions                          GitLab CI
//   detected by   GITHUB_ACTIONS=true                     GITLAB_CI=true
//   release id    OWNER-REPO-RUN_ID                       CI_PROJECT_PATH_SLUG-CI_PIPELINE_ID
//                 (GITHUB_REPOSITORY with '/' as '-', GITHUB_RUN_ID): every job and re-run of
//                 one pipeline names the same release
//   commit        GITHUB_SHA                              CI_COMMIT_SHA
//   version       GITHUB_REF_NAME when GITHUB_REF_TYPE    CI_COMMIT_TAG
//                 is tag
//   environment   -                                       CI_ENVIRONMENT_NAME
//   run URL       GITHUB_SERVER_URL/GITHUB_REPOSITORY/    CI_PIPELINE_URL
//                 actions/runs/GITHUB_RUN_ID (+ /attempts/
//                 GITHUB_RUN_ATTEMPT when it is > 1)
//   job URL       the run URL: GitHub puts no job id in   CI_JOB_URL
//                 the environment
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace octolaunch::cli {

// Returns the variable's value, or nullptr when unset (std::getenv in the CLI, a map in tests).
using GetEnv = std::function<const char*(const char*)>;

// std::getenv as a GetEnv: the process's own environment.
const char* processEnvironment(const char* name);

// The default release id of this pipeline (table above); "" outside CI.
std::string ciReleaseId(const GetEnv& getenv);

// Adds "commit", "version", "environment", "ci_run_url" and "ci_job_urls" to a
// POST /api/v1/releases body where the body has none.
void fillReleaseFromCi(nlohmann::json& body, const GetEnv& getenv);

// The job URL for a stage report (table above); "" outside CI.
std::string ciJobUrl(const GetEnv& getenv);

}  // namespace octolaunch::cli
