// Scenarios run end to end with real processes: a collector, one agent per simulated host, a
// release registered with CI URLs, a real deploy with real hooks — then "why did it fail?".
// Each asserts the top cause's category, its hosts count, that its evidence points at the right
// events and that open_first holds the CI job URL.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/scenarios/cause_checks.h"
#include "tests/scenarios/fleet.h"
#include "tests/support/skip.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kJobUrl = "https://ci.example.com/acme/api/jobs/4411";

json ciRelease(std::vector<std::string> targets = {}) {
  return octolaunch::testing::ciRelease(kJobUrl, std::move(targets));
}

TEST(Scenario, DeployScriptFailingEverywhere) {
  Fleet fleet;
  for (auto h : {"web1", "web2", "web3"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r100", "api", ciRelease({"web1", "web2", "web3"})).status, 201);
  for (auto h : {"web1", "web2", "web3"}) {
    EXPECT_EQ(deployWithHook(fleet, h, "r100", "migrate",
                             "echo 'ERROR: relation \"users\" already exists' >&2; exit 1"),
              1);
  }
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r100");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "deploy-script") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", 0), 3);
  EXPECT_EQ(top.value("hosts_total", 0), 3);
  EXPECT_TRUE(evidenceHasKind(top, "hook.exit")) << top.dump(2);
  EXPECT_TRUE(mentions(top["open_first"], kJobUrl)) << top.dump(2);
}

TEST(Scenario, SameHookFailingOnOneOfThreeHostsIsFlaky) {
  Fleet fleet;
  for (auto h : {"web1", "web2", "web3"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r101", "api", ciRelease({"web1", "web2", "web3"})).status, 201);
  // The same migration on every host; on web2 it cannot get its lock (a leftover lock file).
  std::ofstream(fleet.hostDir("web2") / "migration.lock") << "held by pid 4242\n";
  const std::string migrate =
      "if [ -e migration.lock ]; then echo 'could not obtain lock on relation \"orders\"' >&2; "
      "exit 1; fi; "
      "echo migrated";
  EXPECT_EQ(deployWithHook(fleet, "web1", "r101", "migrate", migrate), 0);
  EXPECT_EQ(deployWithHook(fleet, "web2", "r101", "migrate", migrate), 1);
  EXPECT_EQ(deployWithHook(fleet, "web3", "r101", "migrate", migrate), 0);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r101");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "flaky-deploy") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", 0), 1);
  EXPECT_EQ(top.value("hosts_total", 0), 3);
  EXPECT_TRUE(mentions(top["evidence"], "web2"));
  EXPECT_TRUE(mentions(top["open_first"], kJobUrl)) << top.dump(2);
}

TEST(Scenario, PushStageFailedBeforeAnyHost) {
  Fleet fleet;
  ASSERT_EQ(fleet.registerRelease("r102", "api", ciRelease()).status, 201);
  const std::string pushJob = "https://ci.example.com/acme/api/jobs/4420";
  EXPECT_LT(
      fleet.reportStage("r102", {{"name", "build"}, {"status", "ok"}, {"job_url", kJobUrl}}).status,
      300);
  EXPECT_LT(
      fleet.reportStage("r102", {{"name", "push"}, {"status", "failed"}, {"job_url", pushJob}})
          .status,
      300);
  json answer = fleet.causes("r102");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "pipeline") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", -1), 0);
  EXPECT_TRUE(mentions(top["open_first"], pushJob)) << top.dump(2);
}

TEST(Scenario, HealthyReleaseHasNoCauses) {
  Fleet fleet;
  for (auto h : {"web1", "web2"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r103", "api", ciRelease({"web1", "web2"})).status, 201);
  for (auto h : {"web1", "web2"})
    EXPECT_EQ(deployWithHook(fleet, h, "r103", "migrate", "echo ok"), 0);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r103");
  for (const auto& c : answer["causes"]) {
    EXPECT_TRUE(c.value("context", false)) << "a healthy release has only context: " << c.dump(2);
  }
  EXPECT_NE(answer.value("status", ""), "failed");
}

TEST(Scenario, ChangedConfigFileOnTheFailingHostIsConfigDrift) {
  Fleet fleet;
  // Both hosts read the service's config from the same path; between the two deploys the file
  // was changed by hand (on one host — here one machine plays both, so the edit comes in between).
  std::filesystem::path conf = fleet.dir() / "etc-api.conf";
  std::ofstream(conf) << "pool_size = 20\nlisten = 8080\n";
  for (auto host : {"web1", "web2"}) {
    fleet.addHost(host, "[service.api]\nconfig_files = [\"" + conf.string() + "\"]\n");
  }
  ASSERT_EQ(fleet.registerRelease("r104", "api", ciRelease({"web1", "web2"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r104", "restart", "echo started"), 0);
  std::ofstream(conf) << "pool_size = 2000\nlisten = 8080\n";
  EXPECT_EQ(deployWithHook(fleet, "web2", "r104", "restart",
                           "echo 'FATAL: sorry, too many clients already' >&2; exit 1"),
            1);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r104");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "config-drift") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", 0), 1);
  EXPECT_TRUE(mentions(top, "web2")) << top.dump(2);
  EXPECT_TRUE(mentions(top, "api.conf")) << top.dump(2);
}

}  // namespace
}  // namespace octolaunch::testing
