#include "collector/cli/ci_environment.h"

#include <algorithm>
#include <cstdlib>

namespace octolaunch::cli {

namespace {

std::string var(const GetEnv& getenv, const char* name) {
  const char* v = getenv(name);
  return v ? std::string(v) : std::string();
}

bool onGithub(const GetEnv& getenv) { return var(getenv, "GITHUB_ACTIONS") == "true"; }
bool onGitlab(const GetEnv& getenv) { return var(getenv, "GITLAB_CI") == "true"; }

std::string githubRunUrl(const GetEnv& getenv) {
  std::string server = var(getenv, "GITHUB_SERVER_URL"), repo = var(getenv, "GITHUB_REPOSITORY"),
              run = var(getenv, "GITHUB_RUN_ID");
  if (server.empty() || repo.empty() || run.empty()) return "";
  std::string url = server + "/" + repo + "/actions/runs/" + run;
  std::string attempt = var(getenv, "GITHUB_RUN_ATTEMPT");
  if (!attempt.empty() && attempt != "1") url += "/attempts/" + attempt;
  return url;
}

// prefix-number, or "" when either is missing; '/' (not allowed in ids) becomes '-'.
std::string pipelineId(std::string prefix, const std::string& number) {
  if (prefix.empty() || number.empty()) return "";
  std::replace(prefix.begin(), prefix.end(), '/', '-');
  return prefix + "-" + number;
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

const char* processEnvironment(const char* name) { return std::getenv(name); }

std::string ciReleaseId(const GetEnv& getenv) {
  if (onGithub(getenv)) {
    return pipelineId(var(getenv, "GITHUB_REPOSITORY"), var(getenv, "GITHUB_RUN_ID"));
  }
  if (onGitlab(getenv)) {
    return pipelineId(var(getenv, "CI_PROJECT_PATH_SLUG"), var(getenv, "CI_PIPELINE_ID"));
  }
  return "";
}

void fillReleaseFromCi(nlohmann::json& body, const GetEnv& getenv) {
  if (onGithub(getenv)) {
    setIfAbsent(body, "commit", var(getenv, "GITHUB_SHA"));
    if (var(getenv, "GITHUB_REF_TYPE") == "tag") {
      setIfAbsent(body, "version", var(getenv, "GITHUB_REF_NAME"));
    }
    setIfAbsent(body, "ci_run_url", githubRunUrl(getenv));
  } else if (onGitlab(getenv)) {
    setIfAbsent(body, "commit", var(getenv, "CI_COMMIT_SHA"));
    setIfAbsent(body, "version", var(getenv, "CI_COMMIT_TAG"));
    setIfAbsent(body, "environment", var(getenv, "CI_ENVIRONMENT_NAME"));
    setIfAbsent(body, "ci_run_url", var(getenv, "CI_PIPELINE_URL"));
    std::string job = var(getenv, "CI_JOB_URL");
    bool hasJobs = body.contains("ci_job_urls") && body["ci_job_urls"].is_array() &&
                   !body["ci_job_urls"].empty();
    if (!job.empty() && !hasJobs) body["ci_job_urls"] = nlohmann::json::array({job});
  }
}

std::string ciJobUrl(const GetEnv& getenv) {
  if (onGithub(getenv)) return githubRunUrl(getenv);
  if (onGitlab(getenv)) return var(getenv, "CI_JOB_URL");
  return "";
}

}  // namespace octolaunch::cli
