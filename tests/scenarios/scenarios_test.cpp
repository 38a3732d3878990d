// Scenarios run end to end with real processes: a collector, one agent per simulated host, a
// release registered with CI URLs, a real deploy with real hooks — then "why did it fail?".
// Each runs as its quiet and its noisy twin (fleet.h, background.h) and is judged the same way in
// both (diagnosis.h): the top cause's category, its hosts and its first evidence line.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/scenarios/cause_checks.h"
#include "tests/scenarios/diagnosis.h"
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

class Scenario : public TwinScenario {};

TEST_P(Scenario, DeployScriptFailingEverywhere) {
  Fleet fleet(GetParam());
  for (auto h : {"web1", "web2", "web3"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r100", "api", ciRelease({"web1", "web2", "web3"})).status, 201);
  for (auto h : {"web1", "web2", "web3"}) {
    EXPECT_EQ(deployWithHook(fleet, h, "r100", "migrate",
                             "echo 'ERROR: relation \"users\" already exists' >&2; "
                             "echo 'HINT: run the migration once' >&2; exit 1"),
              1);
  }
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r100");
  judge({"deploy-script", {"web1", "web2", "web3"}, "already exists"}, answer);
  EXPECT_EQ(rootCause(answer).value("hosts_total", 0), 3);
  EXPECT_TRUE(evidenceHasKind(rootCause(answer), "hook.exit")) << answer.dump(2);
  EXPECT_TRUE(mentions(rootCause(answer)["open_first"], kJobUrl)) << answer.dump(2);
}

TEST_P(Scenario, SameHookFailingOnOneOfThreeHostsIsFlaky) {
  Fleet fleet(GetParam());
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
  judge({"flaky-deploy", {"web2"}, "could not obtain lock"}, answer);
  EXPECT_TRUE(mentions(rootCause(answer)["open_first"], kJobUrl)) << answer.dump(2);
}

TEST_P(Scenario, PushStageFailedBeforeAnyHost) {
  Fleet fleet(GetParam());
  for (auto h : {"web1", "web2"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r102", "api", ciRelease({"web1", "web2"})).status, 201);
  const std::string pushJob = "https://ci.example.com/acme/api/jobs/4420";
  EXPECT_LT(
      fleet.reportStage("r102", {{"name", "build"}, {"status", "ok"}, {"job_url", kJobUrl}}).status,
      300);
  EXPECT_LT(
      fleet.reportStage("r102", {{"name", "push"}, {"status", "failed"}, {"job_url", pushJob}})
          .status,
      300);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r102");
  judge({"pipeline", {}, "push"}, answer);
  EXPECT_TRUE(mentions(rootCause(answer)["open_first"], pushJob)) << answer.dump(2);
}

TEST_P(Scenario, CiStageFailedBecauseHostsFailed) {
  // CI reports its deploy stage failed because the migration failed on the hosts: the failing
  // hook is the cause, the stage a consequence of it.
  Fleet fleet(GetParam());
  for (auto h : {"web1", "web2"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r107", "api", ciRelease({"web1", "web2"})).status, 201);
  EXPECT_LT(
      fleet.reportStage("r107", {{"name", "build"}, {"status", "ok"}, {"job_url", kJobUrl}}).status,
      300);
  for (auto h : {"web1", "web2"}) {
    EXPECT_EQ(deployWithHook(fleet, h, "r107", "migrate",
                             "echo 'ERROR: duplicate key value violates unique constraint "
                             "\"users_email_key\"' >&2; echo 'DETAIL: Key (email)=(a@b.c) already "
                             "exists.' >&2; exit 3"),
              3);
  }
  EXPECT_LT(
      fleet.reportStage("r107", {{"name", "deploy"}, {"status", "failed"}, {"job_url", kJobUrl}})
          .status,
      300);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r107");
  judge({"deploy-script", {"web1", "web2"}, "duplicate key value"}, answer);
}

TEST_P(Scenario, HealthyReleaseHasNoCauses) {
  Fleet fleet(GetParam());
  for (auto h : {"web1", "web2"}) fleet.addHost(h);
  ASSERT_EQ(fleet.registerRelease("r103", "api", ciRelease({"web1", "web2"})).status, 201);
  for (auto h : {"web1", "web2"})
    EXPECT_EQ(deployWithHook(fleet, h, "r103", "migrate", "echo ok"), 0);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r103");
  judge({"none", {}, ""}, answer);
  EXPECT_NE(answer.value("status", ""), "failed") << answer.dump(2);
  if (fleet.noisy()) {
    // The noise was really there, on these hosts, while the release found nothing to blame.
    const int port = fleet.collector().httpPort();
    for (const std::string query : {"host=web1&kind=oom.kill", "host=web2&kind=unit.failed",
                                    "host=web1&kind=health.failed"}) {
      EXPECT_TRUE(waitUntil([&] { return !allEvents(port, query).empty(); }, 20s)) << query;
    }
    EXPECT_TRUE(waitUntil(
        [&] {
          for (const char* kind : {"pressure.io", "pressure.cpu", "pressure.memory"}) {
            if (!allEvents(port, std::string("host=web2&kind=") + kind).empty()) return true;
          }
          return false;
        },
        30s))
        << "stress-ng made no host pressure source fire";
  }
}

TEST_P(Scenario, ChangedConfigFileOnTheFailingHostIsConfigDrift) {
  Fleet fleet(GetParam());
  // Both hosts read the service's config from the same path; between the two deploys the file
  // was changed by hand (on one host — here one machine plays both, so the edit comes in between).
  std::filesystem::path conf = fleet.dir() / "etc-api.conf";
  std::ofstream(conf) << "pool_size = 20\nlisten = 8080\n";
  for (auto host : {"web1", "web2"}) {
    fleet.addHost(host, "[service.api]\nconfig_files = [\"" + conf.string() + "\"]\n");
  }
  ASSERT_EQ(fleet.registerRelease("r104", "api", ciRelease({"web1", "web2"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r104", "restart", "echo started"), 0);
  ASSERT_TRUE(fleet.waitObserved("web1", "config.fingerprint", 20s));
  std::ofstream(conf) << "pool_size = 2000\nlisten = 8080\n";
  EXPECT_EQ(deployWithHook(fleet, "web2", "r104", "restart",
                           "echo 'FATAL: sorry, too many clients already' >&2; exit 1"),
            1);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r104");
  judge({"config-drift", {"web2"}, "api.conf"}, answer);
}

TEST_P(Scenario, IdenticalConfigsWithoutASharedKeyAreNotDrift) {
  // Four hosts with byte-identical config files, each with a fingerprint key of its own (no fleet
  // key set): their hashes cannot be compared, so a failure on one host is not config drift.
  Fleet fleet(GetParam());
  std::vector<std::string> hosts = {"web1", "web2", "web3", "web4"};
  for (const auto& h : hosts) {
    std::filesystem::path conf = fleet.dir() / ("etc-api-" + h + ".conf");
    std::ofstream(conf) << "pool_size = 20\nlisten = 8080\n";
    fleet.addHost(h, "[fingerprint]\nkey = \"own-key-of-" + h + "-0123456789\"\n[service.api]\n" +
                         "config_files = [\"" + conf.string() + "\"]\n");
  }
  ASSERT_EQ(fleet.registerRelease("r108", "api", ciRelease(hosts)).status, 201);
  // The same restart everywhere; on web3 the database refuses the service's password.
  std::ofstream(fleet.hostDir("web3") / "pg-password-rotated") << "\n";
  for (const auto& h : hosts) {
    deployWithHook(fleet, h, "r108", "restart",
                   "if [ -e pg-password-rotated ]; then echo 'FATAL: password authentication "
                   "failed for user \"api\"' >&2; exit 1; fi; echo started");
  }
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r108");
  judge({"flaky-deploy", {"web3"}, "password authentication failed"}, answer);
  for (const auto& c : answer["causes"]) {
    if (!c.value("context", false)) {
      EXPECT_NE(c.value("category", ""), "config-drift") << answer.dump(2);
    }
  }
  EXPECT_TRUE(mentions(answer, "no shared key")) << answer.dump(2);
}

TEST_P(Scenario, UnitCrashLoopingAfterACleanHook) {
  // The hook restarts the service and exits 0; then the service's unit crash-loops (systemd's
  // own lines, captured from systemd 252, replayed into the host's journal). The agent maps the
  // unit to the service ([service.api] units): the collector has no mapping of its own.
  if (std::string why = journalFeedUnavailable(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  Fleet fleet(GetParam());
  const std::string journal = "[sources.journal]\nenabled = true\ndirectory = \"" +
                              fleet.journalDir("web1").string() + "\"\n";
  fleet.addHost("web1", journal + "[service.api]\nunits = [\"api-server.service\"]\n");
  fleet.addHost("web2", "[service.api]\nunits = [\"api-server.service\"]\n");
  ASSERT_EQ(fleet.registerRelease("r109", "api", ciRelease({"web1", "web2"})).status, 201);
  fleet.deploy("web1", "start", "r109", "api");
  EXPECT_EQ(fleet.hook("web1", "r109", "api", "restart", "echo restarted"), 0);
  fleet.journal("web1").crashLoop("api-server.service");
  ASSERT_TRUE(waitUntil(
      [&] {
        return !allEvents(fleet.collector().httpPort(), "host=web1&kind=unit.failed").empty();
      },
      20s));
  fleet.deploy("web1", "finish", "r109", "api", "ok");
  EXPECT_EQ(deployWithHook(fleet, "web2", "r109", "restart", "echo restarted"), 0);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r109");
  judge({"orchestration", {"web1"}, "api-server.service"}, answer);
  EXPECT_EQ(answer.value("status", ""), "partially_failed") << answer.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Twins, Scenario, ::testing::Values(Twin::quiet, Twin::noisy), TwinName());

}  // namespace
}  // namespace octolaunch::testing
