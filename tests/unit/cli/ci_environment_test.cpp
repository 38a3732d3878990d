#include "collector/cli/ci_environment.h"

#include <gtest/gtest.h>

#include <map>

namespace octolaunch::cli {
namespace {

using nlohmann::json;
using Env = std::map<std::string, std::string>;

GetEnv from(const Env& env) {
  return [&env](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

const Env kGithub = {{"GITHUB_ACTIONS", "true"},
                     {"GITHUB_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"},
                     {"GITHUB_SERVER_URL", "https://github.com"},
                     {"GITHUB_REPOSITORY", "acme/api"},
                     {"GITHUB_RUN_ID", "7001"},
                     {"GITHUB_RUN_ATTEMPT", "1"},
                     {"GITHUB_REF_TYPE", "branch"},
                     {"GITHUB_REF_NAME", "main"}};

const Env kGitlab = {{"GITLAB_CI", "true"},
                     {"CI_COMMIT_SHA", "1111111111111111111111111111111111111111"},
                     {"CI_PROJECT_PATH_SLUG", "acme-api"},
                     {"CI_PIPELINE_ID", "42"},
                     {"CI_PIPELINE_URL", "https://gitlab.com/acme/api/-/pipelines/42"},
                     {"CI_JOB_URL", "https://gitlab.com/acme/api/-/jobs/4242"},
                     {"CI_COMMIT_TAG", "v1.4.0"},
                     {"CI_ENVIRONMENT_NAME", "production"}};

TEST(CiEnvironment, GithubFillsWhatFlagsLeftOut) {
  json body = {{"id", "r42"}, {"service", "api"}};
  fillReleaseFromCi(body, from(kGithub));
  EXPECT_EQ(body, json({{"id", "r42"},
                        {"service", "api"},
                        {"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"},
                        {"ci_run_url", "https://github.com/acme/api/actions/runs/7001"}}));
  json flagged = {{"id", "r42"}, {"service", "api"}, {"commit", "abc"}};
  fillReleaseFromCi(flagged, from(kGithub));
  EXPECT_EQ(flagged["commit"], "abc");  // flags win

  Env tagged = kGithub;
  tagged["GITHUB_REF_TYPE"] = "tag";
  tagged["GITHUB_REF_NAME"] = "v2.0.1";
  tagged["GITHUB_RUN_ATTEMPT"] = "3";
  json fromTag = {{"id", "r42"}, {"service", "api"}};
  fillReleaseFromCi(fromTag, from(tagged));
  EXPECT_EQ(fromTag["version"], "v2.0.1");
  EXPECT_EQ(fromTag["ci_run_url"], "https://github.com/acme/api/actions/runs/7001/attempts/3");
  // GitHub has no job id in the environment: a stage's job URL is the run's.
  EXPECT_EQ(ciJobUrl(from(tagged)), "https://github.com/acme/api/actions/runs/7001/attempts/3");
}

TEST(CiEnvironment, GitlabFillsWhatFlagsLeftOut) {
  json body = {{"id", "r42"}, {"service", "api"}};
  fillReleaseFromCi(body, from(kGitlab));
  EXPECT_EQ(body, json({{"id", "r42"},
                        {"service", "api"},
                        {"commit", "1111111111111111111111111111111111111111"},
                        {"version", "v1.4.0"},
                        {"environment", "production"},
                        {"ci_run_url", "https://gitlab.com/acme/api/-/pipelines/42"},
                        {"ci_job_urls", {"https://gitlab.com/acme/api/-/jobs/4242"}}}));
  json flagged = {{"id", "r42"}, {"service", "api"}, {"ci_job_urls", {"https://ci/1"}}};
  fillReleaseFromCi(flagged, from(kGitlab));
  EXPECT_EQ(flagged["ci_job_urls"], json({"https://ci/1"}));
  EXPECT_EQ(ciJobUrl(from(kGitlab)), "https://gitlab.com/acme/api/-/jobs/4242");
}

TEST(CiEnvironment, EveryJobOfOnePipelineNamesTheSameRelease) {
  EXPECT_EQ(ciReleaseId(from(kGithub)), "acme-api-7001");
  Env rerun = kGithub;
  rerun["GITHUB_RUN_ATTEMPT"] = "2";
  rerun["GITHUB_JOB"] = "deploy";
  EXPECT_EQ(ciReleaseId(from(rerun)), "acme-api-7001");
  EXPECT_EQ(ciReleaseId(from(kGitlab)), "acme-api-42");
  Env partial = kGitlab;
  partial.erase("CI_PIPELINE_ID");
  EXPECT_EQ(ciReleaseId(from(partial)), "");
}

TEST(CiEnvironment, OutsideCiNothingIsFilled) {
  const Env none;
  json plain = {{"id", "r42"}, {"service", "api"}};
  fillReleaseFromCi(plain, from(none));
  EXPECT_EQ(plain, json({{"id", "r42"}, {"service", "api"}}));
  EXPECT_EQ(ciReleaseId(from(none)), "");
  EXPECT_EQ(ciJobUrl(from(none)), "");
  // A stray variable is not a CI job: only GITHUB_ACTIONS / GITLAB_CI = true are.
  const Env stray = {{"GITHUB_SHA", "abc"}, {"CI_COMMIT_SHA", "def"}, {"GITHUB_ACTIONS", ""}};
  fillReleaseFromCi(plain, from(stray));
  EXPECT_EQ(plain, json({{"id", "r42"}, {"service", "api"}}));
}

}  // namespace
}  // namespace octolaunch::cli
