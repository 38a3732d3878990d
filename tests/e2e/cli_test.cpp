// The `octolaunch` binary against the real collector binary on loopback, as a CI job calls it:
// exit codes a step can branch on, --no-fail while the collector is down, the CI environment.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/api_tokens.h"
#include "tests/support/harness.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

// Exit codes as the README documents them (collector/cli/exit_code.h).
constexpr int kOk = 0, kCheckFound = 1, kUsage = 2, kUnreachable = 3, kNotFound = 4,
              kNotAuthorised = 5;

// Environment variables of a CI job that must not leak in from the runner of this test.
const std::vector<std::string> kNotInCi = {
    "GITHUB_ACTIONS=", "GITLAB_CI=", "OCTOLAUNCH_NO_FAIL=", "OCTOLAUNCH_TOKEN=", "OCTOLAUNCH_URL="};

struct CliFleet {
  CliFleet() { writeTokenConfig(dir / "collector.toml"); }

  RunResult cli(std::vector<std::string> args, const std::string& token = kWriteToken,
                std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {binPath("octolaunch"), "--url", collector.url(), "--token",
                                     token};
    argv.insert(argv.end(), args.begin(), args.end());
    env.insert(env.begin(), kNotInCi.begin(), kNotInCi.end());
    return run(argv, 60s, env);
  }

  TempDir dir;
  CollectorProcess collector{
      {.dataDir = dir / "collector", .config = (dir / "collector.toml").string()}};
};

TEST(CliInCi, NoFailCarriesOnWhileTheCollectorIsDownAndWithoutItTheJobFailsAsUnreachable) {
  CliFleet fleet;
  fleet.collector.start();
  RunResult created = fleet.cli({"release", "create", "--id", "r1", "--service", "api"});
  ASSERT_EQ(created.exitCode, kOk) << created.err;
  ASSERT_EQ(fleet.collector.stop(), 0);

  const std::vector<std::string> create = {"release", "create", "--id", "r2", "--service", "api"};
  const std::vector<std::string> stage = {"release", "stage",    "r1", "--name",
                                          "deploy",  "--status", "ok"};
  for (const auto& args : {create, stage}) {
    RunResult failed = fleet.cli(args);
    EXPECT_EQ(failed.exitCode, kUnreachable) << failed.err;
    EXPECT_NE(failed.err.find("cannot reach the collector at " + fleet.collector.url()),
              std::string::npos)
        << failed.err;

    std::vector<std::string> tolerant = args;
    tolerant.push_back("--no-fail");
    RunResult carried = fleet.cli(tolerant);
    EXPECT_EQ(carried.exitCode, kOk) << carried.err;
    EXPECT_EQ(carried.out, "");
    EXPECT_EQ(carried.err.rfind(
                  "octolaunch: warning: cannot reach the collector at " + fleet.collector.url(), 0),
              0u)
        << carried.err;
    EXPECT_NE(carried.err.find("nothing was recorded, carrying on (--no-fail)"), std::string::npos);

    RunResult fromEnv = fleet.cli(args, kWriteToken, {"OCTOLAUNCH_NO_FAIL=1"});
    EXPECT_EQ(fromEnv.exitCode, kOk) << fromEnv.err;
    EXPECT_NE(fromEnv.err.find("warning"), std::string::npos);
  }
  // A query has no --no-fail: an investigator must see that the collector is away.
  EXPECT_EQ(fleet.cli({"releases"}).exitCode, kUnreachable);

  fleet.collector.start();  // the same ports: the release registered before is still there
  RunResult back = fleet.cli(stage);
  EXPECT_EQ(back.exitCode, kOk) << back.err;
  EXPECT_EQ(back.out, "release r1: stage deploy ok\n");
}

TEST(CliInCi, EachOutcomeHasItsExitCode) {
  CliFleet fleet;
  fleet.collector.start();
  ASSERT_EQ(fleet.cli({"release", "create", "--id", "r1", "--service", "api"}).exitCode, kOk);
  ASSERT_EQ(fleet.cli({"release", "stage", "r1", "--name", "push", "--status", "failed"}).exitCode,
            kOk);

  EXPECT_EQ(fleet.cli({"release", "show", "nope"}, kReadToken).exitCode, kNotFound);
  EXPECT_EQ(fleet.cli({"why", "nope"}, kReadToken).exitCode, kNotFound);
  EXPECT_EQ(fleet.cli({"releases"}, "not-a-token-0123456789").exitCode, kNotAuthorised);
  RunResult readOnly =
      fleet.cli({"release", "create", "--id", "r2", "--service", "api"}, kReadToken);
  EXPECT_EQ(readOnly.exitCode, kNotAuthorised);
  EXPECT_NE(readOnly.err.find("needs the write scope"), std::string::npos) << readOnly.err;
  EXPECT_EQ(fleet.cli({"releases", "--limit", "0"}, kReadToken).exitCode, kUsage);  // a 400
  EXPECT_EQ(fleet.cli({"release", "create", "--id", "r1", "--service", "web"}).exitCode,
            kUsage);  // a 409: r1 is api's
  EXPECT_EQ(fleet.cli({"events", "--since", "2026-02-30"}, kReadToken).exitCode, kUsage);
  EXPECT_EQ(fleet.cli({"evnets"}, kReadToken).exitCode, kUsage);

  // r1's push failed: a check says so, the plain command does not fail on it.
  EXPECT_EQ(fleet.cli({"why", "r1"}, kReadToken).exitCode, kOk);
  RunResult check = fleet.cli({"why", "r1", "--check"}, kReadToken);
  EXPECT_EQ(check.exitCode, kCheckFound) << check.err;
  EXPECT_NE(check.out.find("pipeline_failed"), std::string::npos) << check.out;
  RunResult shown = fleet.cli({"release", "show", "r1", "--check", "--json"}, kReadToken);
  EXPECT_EQ(shown.exitCode, kCheckFound);
  EXPECT_EQ(nlohmann::json::parse(shown.out)["status"], "pipeline_failed");
  EXPECT_EQ(fleet.cli({"drift", "--service", "api", "--since", "7d"}, kReadToken).exitCode, kOk);
  RunResult recent = fleet.cli({"--json", "events", "--since", "1h", "--until", "0s"}, kReadToken);
  EXPECT_EQ(recent.exitCode, kOk) << recent.err;
  EXPECT_TRUE(nlohmann::json::parse(recent.out).contains("events"));
}

TEST(CliInCi, AGitlabJobNamesItsReleaseAndItsUrlsFromTheEnvironment) {
  CliFleet fleet;
  fleet.collector.start();
  const std::vector<std::string> gitlab = {
      "GITLAB_CI=true",
      "CI_PROJECT_PATH_SLUG=acme-api",
      "CI_PIPELINE_ID=42",
      "CI_COMMIT_SHA=1111111111111111111111111111111111111111",
      "CI_PIPELINE_URL=https://gitlab.example/acme/api/-/pipelines/42",
      "CI_JOB_URL=https://gitlab.example/acme/api/-/jobs/4242",
      "CI_ENVIRONMENT_NAME=production"};
  RunResult created = fleet.cli({"release", "create", "--service", "api"}, kWriteToken, gitlab);
  ASSERT_EQ(created.exitCode, kOk) << created.err;
  EXPECT_EQ(created.out, "registered release acme-api-42 (api)\n");
  std::vector<std::string> deployJob = gitlab;
  deployJob.push_back("CI_JOB_URL=https://gitlab.example/acme/api/-/jobs/4243");
  RunResult staged = fleet.cli({"release", "stage", "--name", "deploy", "--status", "started"},
                               kWriteToken, deployJob);
  ASSERT_EQ(staged.exitCode, kOk) << staged.err;

  RunResult shown = fleet.cli({"--json", "release", "show", "acme-api-42"}, kReadToken);
  ASSERT_EQ(shown.exitCode, kOk) << shown.err;
  const nlohmann::json release = nlohmann::json::parse(shown.out);
  EXPECT_EQ(release["commit"], "1111111111111111111111111111111111111111");
  EXPECT_EQ(release["environment"], "production");
  EXPECT_EQ(release["ci_run_url"], "https://gitlab.example/acme/api/-/pipelines/42");
  EXPECT_EQ(release["ci_job_urls"],
            nlohmann::json({"https://gitlab.example/acme/api/-/jobs/4242",
                            "https://gitlab.example/acme/api/-/jobs/4243"}));
}

}  // namespace
}  // namespace octolaunch::testing
