// Right answers on busy hosts: causes must name the failure that broke the release, not the
// noise around it. Events are built as the agent builds them (scenario.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "scenario.h"

namespace octolaunch::analysis {
namespace {

using nlohmann::json;
using schema::Pressure;
using testing::at;
using testing::kSec;
using testing::makeRelease;
using testing::Scenario;

const std::vector<std::string> kBusyHosts = {"web-1", "web-2", "web-3"};

json causesOf(Scenario& s, const Release& r, AnalysisOptions opt = {}) {
  auto a = analyzeRelease(r, s, opt, at(3 * 3600));
  json out = a.causesJson();
  if (std::getenv("ANALYSIS_TEST_DUMP")) std::cout << out.dump(2) << "\n";
  return out;
}

const json* category(const json& report, const std::string& name, bool context = false) {
  for (const auto& c : report["causes"]) {
    if (c["category"] == name && c["context"].get<bool>() == context) return &c;
  }
  return nullptr;
}

const json& top(const json& report) { return report["causes"].at(0); }

bool mentions(const json& j, const std::string& text) {
  return j.dump().find(text) != std::string::npos;
}

void expectOnlyContext(const json& report) {
  for (const auto& c : report["causes"]) {
    EXPECT_TRUE(c["context"].get<bool>()) << c.dump(2);
    EXPECT_LE(c["score"].get<double>(), 0.1);
  }
}

void startAll(Scenario& s, const std::vector<std::string>& hosts = kBusyHosts) {
  for (const auto& h : hosts) s.deployStart(h, 0, "r42", "api");
}

TEST(BusyHosts, PressureThatBeganAfterTheFailureIsNotItsCause) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.hook("web-1", 20, "r42", "api", "migrate", "./migrate.sh", 1, {"!ERROR: deadlock detected"});
  s.deployFinish("web-1", 21, "r42", "api", false);
  // Severe, long memory pressure — raised 3 s after the hook exited.
  s.pressure("web-1", 23, Pressure::Resource::MEMORY, true, 85, 30);
  s.pressure("web-1", 120, Pressure::Resource::MEMORY, false, 20, 2, 23, 92, 41);
  json r = causesOf(s, makeRelease("r42", "api", {"web-1"}));
  EXPECT_EQ(top(r)["category"], "deploy-script");
  const json* pressure = category(r, "resource-exhaustion", true);
  ASSERT_NE(pressure, nullptr) << r.dump(2);
  EXPECT_EQ(category(r, "resource-exhaustion", false), nullptr);
  EXPECT_FALSE(mentions(r, "precedes"));
  EXPECT_TRUE(mentions(*pressure, "3 s after")) << pressure->dump(2);
}

TEST(BusyHosts, RootCauseReasonSaysHowLongBeforeWithItsSign) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.diskFull("web-1", 6, "/var/lib/api", 99.1);
  s.hook("web-1", 20, "r42", "api", "migrate", "./migrate.sh", 1,
         {"!could not extend file: No space left on device"});
  s.deployFinish("web-1", 21, "r42", "api", false);
  json r = causesOf(s, makeRelease("r42", "api", {"web-1"}));
  EXPECT_EQ(top(r)["category"], "resource-exhaustion");
  EXPECT_TRUE(mentions(top(r)["reasons"], "began 14 s before")) << top(r)["reasons"];
}

TEST(BusyHosts, FlappingPressureIsOneEpisodeAndItsMagnitudeIsShown) {
  Scenario s;
  startAll(s);
  // web-2: memory pressure raised and cleared every few seconds for a minute, some avg10 up to
  // 78%, then the migration fails; web-1 and web-3 pass.
  for (int i = 0; i < 10; ++i) {
    double t = 5 + 6 * i;
    s.pressure("web-2", t, Pressure::Resource::MEMORY, true, 60 + i, 12);
    s.pressure("web-2", t + 3, Pressure::Resource::MEMORY, false, 30, 2, t, 70 + i, 14);
  }
  s.hook("web-2", 70, "r42", "api", "migrate", "./migrate.sh", 1, {"!ERROR: canceling statement"});
  s.deployFinish("web-2", 71, "r42", "api", false);
  for (const auto& h : {"web-1", "web-3"}) {
    s.hook(h, 30, "r42", "api", "migrate", "./migrate.sh", 0);
    s.deployFinish(h, 31, "r42", "api", true);
  }
  json r = causesOf(s, makeRelease("r42", "api", kBusyHosts));
  const json& c = top(r);
  EXPECT_EQ(c["category"], "resource-exhaustion") << r.dump(2);
  std::string title = c["title"];
  EXPECT_NE(title.find("memory pressure"), std::string::npos) << title;
  EXPECT_NE(title.find("some avg10 peak 79%"), std::string::npos) << title;
  EXPECT_NE(title.find("full avg10 peak 14%"), std::string::npos) << title;
  EXPECT_NE(title.find("held 57 s"), std::string::npos) << title;
  int episodes = 0;
  for (const auto& e : c["evidence"]) episodes += e["kind"] == "pressure.memory" ? 1 : 0;
  EXPECT_EQ(episodes, 1) << c.dump(2);
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
}

TEST(BusyHosts, MildIoPressureNeverRanksAboveAFailingHookNorAdvisesRollback) {
  Scenario s;
  startAll(s);
  for (const auto& h : kBusyHosts) {
    s.pressure(h, 2, Pressure::Resource::IO, true, 3.5, 0.4);
    s.pressure(h, 60, Pressure::Resource::IO, false, 1, 0, 2, 4, 0.5);
    s.hook(h, 20, "r42", "api", "migrate", "./migrate.sh", 3, {"!ERROR: syntax error at \"("});
    s.deployFinish(h, 21, "r42", "api", false);
  }
  json r = causesOf(s, makeRelease("r42", "api", kBusyHosts));
  EXPECT_EQ(top(r)["category"], "deploy-script") << r.dump(2);
  EXPECT_EQ(category(r, "resource-exhaustion", false), nullptr);
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
}

TEST(BusyHosts, ADiskFullBeforeTheDeployBeganIsTheCause) {
  Scenario s;
  s.diskFull("web-2", -14, "/var/lib/api", 100);  // 14 s before deploy start, never cleared
  s.diskFull("web-3", -4000, "/var/lib/api", 97);
  auto cleared = s.add("web-3", -3000).getPayload().initDiskFull();  // web-3's disk was freed
  cleared.setState(Pressure::State::CLEARED);
  cleared.setMount("/var/lib/api");
  cleared.setUsedPercent(60);
  startAll(s);
  s.hook("web-1", 20, "r42", "api", "unpack", "./unpack.sh", 0);
  s.hook("web-3", 20, "r42", "api", "unpack", "./unpack.sh", 0);
  s.hook("web-2", 20, "r42", "api", "unpack", "./unpack.sh", 2,
         {"!tar: api/static/app.js: Cannot write: No space left on device",
          "!tar: Exiting with failure status due to previous errors"});
  s.deployFinish("web-2", 21, "r42", "api", false);
  for (const auto& h : {"web-1", "web-3"}) s.deployFinish(h, 25, "r42", "api", true);
  json r = causesOf(s, makeRelease("r42", "api", kBusyHosts));
  const json& c = top(r);
  EXPECT_EQ(c["category"], "resource-exhaustion") << r.dump(2);
  EXPECT_EQ(c["hosts"], json({"web-2"}));
  EXPECT_NE(c["title"].get<std::string>().find("disk full on /var/lib/api"), std::string::npos);
  EXPECT_TRUE(mentions(c, "already present")) << c.dump(2);
  // The hook's informative line, not tar's summary.
  const json* hook = category(r, "flaky-deploy");
  ASSERT_NE(hook, nullptr);
  EXPECT_NE((*hook)["title"].get<std::string>().find("Cannot write: No space left on device"),
            std::string::npos)
      << (*hook)["title"];
  EXPECT_LT((*hook)["score"].get<double>(), c["score"].get<double>());
  EXPECT_FALSE(mentions(r, "web-3:/var/lib/api"));
  for (const auto& cause : r["causes"]) EXPECT_NE(cause["hosts"], json({"web-3"})) << cause;
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
}

TEST(BusyHosts, AConditionFoundAtAgentStartCountsAsPresent) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.diskFull("web-1", 5, "/", 99, true);  // the agent restarted during the deploy and found it
  s.hook("web-1", 3, "r42", "api", "unpack", "./unpack.sh", 2,
         {"!write /opt/api/app.jar: no space left on device"});
  s.deployFinish("web-1", 6, "r42", "api", false);
  json r = causesOf(s, makeRelease("r42", "api", {"web-1"}));
  EXPECT_EQ(top(r)["category"], "resource-exhaustion") << r.dump(2);
}

TEST(BusyHosts, DeadContainersAndFailedUnitsCountWhenFoundAtStartOrRecent) {
  Scenario s;
  s.containerFailed("web-1", -3000, "api-1", "registry.acme.io/api:1.4.1", 1, "exited");
  s.containerFailed("web-2", -3000, "api-1", "registry.acme.io/api:1.4.1", 1, "exited");
  auto c = s.add("web-2", -2990).getPayload().initContainerFailed();  // found dead at agent start
  c.setName("api-1");
  c.setImage("registry.acme.io/api:1.4.1");
  c.setAtStart(true);
  s.unitFailed("web-1", -120, "api.service", "exit-code", 1);  // 2 min before the deploy
  for (const auto& h : {"web-1", "web-2"}) s.deployStart(h, 0, "r42", "api");
  auto a = analyzeRelease(makeRelease("r42", "api", {"web-1", "web-2"}), s, {}, at(100));
  std::vector<std::string> present;
  for (const auto& l : a.linked) {
    if (l.present) present.push_back(l.fact.host + ":" + l.fact.kind);
  }
  std::sort(present.begin(), present.end());
  EXPECT_EQ(present, (std::vector<std::string>{"web-1:unit.failed", "web-2:container.failed"}));
}

TEST(BusyHosts, TheLookbackIsConfigurable) {
  Scenario s;
  s.diskFull("web-1", -7200, "/", 99);
  s.deployStart("web-1", 0, "r42", "api");
  s.hook("web-1", 20, "r42", "api", "unpack", "./unpack.sh", 2, {"!No space left on device"});
  s.deployFinish("web-1", 21, "r42", "api", false);
  AnalysisOptions opt;
  opt.conditionLookbackNs = 3600 * kSec;
  EXPECT_EQ(top(causesOf(s, makeRelease("r42", "api", {"web-1"}), opt))["category"],
            "deploy-script");
  EXPECT_EQ(top(causesOf(s, makeRelease("r42", "api", {"web-1"})))["category"],
            "resource-exhaustion");
}

TEST(BusyHosts, AFailedStageIsAConsequenceWhenHostsFailed) {
  Scenario s;
  startAll(s);
  for (const auto& h : kBusyHosts) {
    s.hook(h, 20, "r42", "api", "migrate", "./migrate.sh", 1, {"!ERROR: permission denied"});
    s.deployFinish(h, 21, "r42", "api", false);
  }
  for (const auto& h : kBusyHosts)  // every agent's clock is 3 s behind the collector's
    s.clocks[h] = {3'000'000'000, 40'000'000};
  Release rel = makeRelease("r42", "api", kBusyHosts);
  addStage(rel, {"deploy", StageStatus::failed, "https://ci.example/job/5", at(30)}, at(30));
  json r = causesOf(s, rel);
  EXPECT_EQ(top(r)["category"], "deploy-script") << r.dump(2);
  const json* stage = category(r, "pipeline", true);
  ASSERT_NE(stage, nullptr) << r.dump(2);
  // Hosts' failures at 20 s (web-1: 23 s on the collector's clock); the stage reported at 30 s.
  EXPECT_TRUE(mentions((*stage)["reasons"],
                       "7 s after the first host failure (web-1, clock 3 s "
                       "behind the collector's (+-70 ms))"))
      << (*stage)["reasons"];
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
}

TEST(BusyHosts, EvidencePicksTheErrorLineAndShowsTheTail) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.hook("web-1", 20, "r42", "api", "migrate", "./migrate.sh", 1,
         {"applying 0044_unique_email", "!ERROR:  could not create unique index \"users_email\"",
          "!DETAIL:  Key (email)=(a@example.com) is duplicated."});
  s.deployFinish("web-1", 21, "r42", "api", false);
  json r = causesOf(s, makeRelease("r42", "api", {"web-1"}));
  const json& c = top(r);
  EXPECT_NE(c["title"].get<std::string>().find("could not create unique index"), std::string::npos)
      << c["title"];
  bool tail = false;
  for (const auto& e : c["evidence"]) {
    if (e["kind"] == "hook.exit") {
      tail = true;
      EXPECT_EQ(e["output_tail"].back(), "DETAIL:  Key (email)=(a@example.com) is duplicated.");
    }
    if (e["kind"] == "hook.output") {
      EXPECT_NE(e["summary"].get<std::string>().find("ERROR:"), std::string::npos);
    }
  }
  EXPECT_TRUE(tail) << c.dump(2);
}

TEST(BusyHosts, AHookKilledByTheOomKillerIsThatOom) {
  Scenario s;
  startAll(s, {"web-1", "web-2"});
  for (const auto& h : {"web-1", "web-2"}) {
    // The migration runs in its own scope, outside api.service; the kernel names no process.
    s.oomKill(h, 29.6, "", 5120, "/system.slice/octolaunch-hook-migrate.scope/payload", 2097152);
    s.killedHook(h, 30, "r42", "api", "migrate", "./migrate.sh", 5100,
                 "/system.slice/octolaunch-hook-migrate.scope");
    s.deployFinish(h, 31, "r42", "api", false);
  }
  auto inv = s.add("web-1", 29.5).getPayload().initOomInvocation();
  inv.setTrigger("python3");
  inv.setMemcg("/system.slice/octolaunch-hook-migrate.scope");
  json r = causesOf(s, makeRelease("r42", "api", {"web-1", "web-2"}));
  const json& c = top(r);
  EXPECT_EQ(c["category"], "resource-exhaustion") << r.dump(2);
  EXPECT_EQ(c["hosts_affected"], 2);
  std::string title = c["title"];
  EXPECT_NE(title.find("migrate"), std::string::npos) << title;
  EXPECT_NE(title.find("OOM-killed"), std::string::npos) << title;
  EXPECT_NE(title.find("2.0 GiB"), std::string::npos) << title;
  EXPECT_EQ(title.find("of  on"), std::string::npos) << title;
  EXPECT_EQ(category(r, "deploy-script"), nullptr) << r.dump(2);  // one cause, not two
  EXPECT_FALSE(mentions(r, "OOM kill of  "));
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
  // The invocation is context, never a kill.
  const json* inv_ctx = category(r, "resource-exhaustion", true);
  ASSERT_NE(inv_ctx, nullptr);
  EXPECT_TRUE(mentions(*inv_ctx, "without a victim")) << inv_ctx->dump(2);
}

TEST(BusyHosts, AHookOomIsMatchedByPidWhenTheCgroupIsUnknown) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.oomKill("web-1", 29.9, "python3", 5100, "/user.slice/user-1001.slice/session-3.scope");
  s.killedHook("web-1", 30, "r42", "api", "migrate", "./migrate.sh", 5100, "");
  s.deployFinish("web-1", 31, "r42", "api", false);
  json r = causesOf(s, makeRelease("r42", "api", {"web-1"}));
  EXPECT_EQ(top(r)["category"], "resource-exhaustion") << r.dump(2);
  EXPECT_NE(top(r)["title"].get<std::string>().find("python3"), std::string::npos);
}

TEST(BusyHosts, OomKillTitleFallsBackWhenTheProcessNameIsEmpty) {
  Scenario s;
  startAll(s, {"web-1", "web-2"});
  for (const auto& h : {"web-1", "web-2"}) {
    s.deployFinish(h, 10, "r42", "api", true);
    s.oomKill(h, 40, "", 4242, "/system.slice/api.service");
  }
  json r = causesOf(s, makeRelease("r42", "api", {"web-1", "web-2"}));
  EXPECT_FALSE(mentions(r, "OOM kill of  ")) << r.dump(2);
  EXPECT_NE(top(r)["title"].get<std::string>().find("OOM kill of api.service"), std::string::npos)
      << top(r)["title"];
  EXPECT_TRUE(r["rollback_advised"].get<bool>());  // the service itself, everywhere
}

TEST(BusyHosts, FingerprintsWithDifferentKeysAreNeverCompared) {
  Scenario s;
  std::vector<std::string> hosts = {"web-1", "web-2", "web-3", "web-4"};
  startAll(s, hosts);
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    // Identical files; each host hashes with its own key, so the hashes differ.
    s.fingerprint(hosts[i], 5, "r42", "api", true,
                  {{"/etc/api/api.toml", "file", "h" + std::to_string(i)}},
                  "key-" + std::to_string(i));
    s.deployFinish(hosts[i], 20, "r42", "api", i != 3);
  }
  s.unitFailed("web-4", 30, "api.service", "exit-code", 1);
  json r = causesOf(s, makeRelease("r42", "api", hosts));
  EXPECT_EQ(category(r, "config-drift"), nullptr) << r.dump(2);
  int notes = 0;
  for (const auto& c : r["causes"]) notes += mentions(c["title"], "no shared key") ? 1 : 0;
  EXPECT_EQ(notes, 1) << r.dump(2);
  json drift = driftReport(s, "api", at(-60), "", {});
  EXPECT_FALSE(drift["drift"].get<bool>()) << drift.dump(2);
  EXPECT_EQ(drift["note"], "not comparable: no shared key");
  EXPECT_EQ(drift["not_comparable"].size(), 4u);
}

TEST(BusyHosts, FingerprintsWithTheSameKeyStillShowDrift) {
  Scenario s;
  std::vector<std::string> hosts = {"web-1", "web-2", "web-3"};
  startAll(s, hosts);
  for (const auto& h : hosts) {
    s.fingerprint(h, 5, "r42", "api", true,
                  {{"/etc/api/api.toml", "file", h == "web-3" ? "bad" : "good"}}, "k1");
    s.deployFinish(h, 20, "r42", "api", true);
  }
  s.unitFailed("web-3", 30, "api.service", "exit-code", 78);
  json r = causesOf(s, makeRelease("r42", "api", hosts));
  EXPECT_EQ(top(r)["category"], "config-drift") << r.dump(2);
  EXPECT_FALSE(mentions(r, "no shared key"));
}

TEST(BusyHosts, AUnitTheAgentTaggedWithTheServiceFailsTheRelease) {
  Scenario s;
  startAll(s, {"web-1", "web-2"});
  for (const auto& h : {"web-1", "web-2"}) {
    s.hook(h, 10, "r42", "api", "restart", "systemctl restart api-v2-worker", 0);
    s.deployFinish(h, 11, "r42", "api", true);
    // A unit the collector has no mapping for; the agent's [service.api] names it.
    for (double t : {15.0, 20.0, 25.0})
      s.unitFailed(h, t, "api-v2-worker.service", "exit-code", 1, false, "api");
  }
  json r = causesOf(s, makeRelease("r42", "api", {"web-1", "web-2"}));
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(top(r)["category"], "orchestration") << r.dump(2);
  EXPECT_NE(top(r)["title"].get<std::string>().find("api-v2-worker.service"), std::string::npos);
}

TEST(BusyHosts, AHealthyReleaseOnANoisyHostHasNoCauses) {
  Scenario s;
  startAll(s);
  for (const auto& h : kBusyHosts) {
    // Pressure episodes below the thresholds, some flapping.
    for (int i = 0; i < 5; ++i) {
      s.pressure(h, 2 + 4 * i, Pressure::Resource::MEMORY, true, 18, 1);
      s.pressure(h, 4 + 4 * i, Pressure::Resource::MEMORY, false, 5, 0, 2 + 4 * i, 22, 2);
    }
    s.pressure(h, 3, Pressure::Resource::IO, true, 50, 12);  // severe but brief
    s.pressure(h, 8, Pressure::Resource::IO, false, 4, 0, 3, 55, 14);
    s.hook(h, 20, "r42", "api", "migrate", "./migrate.sh", 0,
           {"ERROR level logging enabled", "warning: 0 rows to migrate", "!notice: skipped"});
    s.deployFinish(h, 25, "r42", "api", true);
    s.health(h, 30, "r42", "api", "http", true, "503");
    s.health(h, 40, "r42", "api", "http", false, "200");
  }
  s.oomKill("web-2", 12, "stress-ng", 7777, "/user.slice/user-1000.slice/session-9.scope");
  for (double t : {5.0, 15.0, 25.0}) s.unitFailed("web-1", t, "backup.service", "exit-code", 1);
  json r = causesOf(s, makeRelease("r42", "api", kBusyHosts));
  EXPECT_EQ(r["status"], "succeeded") << r.dump(2);
  expectOnlyContext(r);
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
  EXPECT_NE(r["advice"].get<std::string>().find("No failures"), std::string::npos) << r["advice"];
}

}  // namespace
}  // namespace octolaunch::analysis
