#include "collector/cli/ci_environment.h"

namespace octolaunch::cli {

namespace {

std::string var(const GetEnv& getenv, const char* name) {
  const char* v = getenv(name);
  return v ? std::string(v) : std::string();
}

std::string githubRunUrl(const GetEnv& getenv) {
  std::string server = var(getenv, "GITHUB_SERVER_URL"), repo = var(getenv, "GITHUB_REPOSITORY"),
              run = var(getenv, "GITHUB_RUN_ID");
  if (server.empty() || repo.empty() || run.empty()) return "";
  std::string url = server + "/" + repo + "/actions/runs/" + run;
  std::string attempt = var(getenv, "GITHUB_RUN_ATTEMPT");
  if (!attempt.empty() && attempt != "1") url += "/attempts/" + attempt;
  return url;
}

void setIfAbsent(nlohmann::json& body, const char* key, const std::string& value) {
  if (value.empty()) return;
  auto it = body.find(key);
  if (it == body.end() || it->is_null() ||
      (it->is_string() && it->get_ref<const std::string&>().empty())) {
    body[key] = value;
  }
}

}  // namespace

void fillReleaseFromCi(nlohmann::json& body, const GetEnv& getenv) {
  bool github = var(getenv, "GITHUB_ACTIONS") == "true" || !var(getenv, "GITHUB_SHA").empty();
  bool gitlab = var(getenv, "GITLAB_CI") == "true" || !var(getenv, "CI_COMMIT_SHA").empty();
  if (github) {
    setIfAbsent(body, "commit", var(getenv, "GITHUB_SHA"));
    setIfAbsent(body, "ci_run_url", githubRunUrl(getenv));
  }
  if (gitlab) {
    setIfAbsent(body, "commit", var(getenv, "CI_COMMIT_SHA"));
    setIfAbsent(body, "ci_run_url", var(getenv, "CI_PIPELINE_URL"));
    std::string job = var(getenv, "CI_JOB_URL");
    bool hasJobs = body.contains("ci_job_urls") && body["ci_job_urls"].is_array() &&
                   !body["ci_job_urls"].empty();
    if (!job.empty() && !hasJobs) body["ci_job_urls"] = nlohmann::json::array({job});
  }
}

std::string ciJobUrl(const GetEnv& getenv) {
  std::string job = var(getenv, "CI_JOB_URL");
  return job.empty() ? githubRunUrl(getenv) : job;
}

}  // namespace octolaunch::cli
