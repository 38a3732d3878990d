// Candidate causes on realistic event sequences: one test per category and the tricky cases (root
// cause above symptom, flaky 1 of 3, unrelated OOM, healthy release, rollback advice).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "scenario.h"

namespace octolaunch::analysis {
namespace {

using nlohmann::json;
using testing::at;
using testing::makeRelease;
using testing::Scenario;

const std::string kDeployJob = "https://github.com/acme/api/actions/runs/7001/job/5";
const std::vector<std::string> kHosts = {"web-1", "web-2", "web-3"};

Release releaseWithDeployJob(std::vector<std::string> targets = kHosts) {
  Release r = makeRelease("r42", "api", std::move(targets));
  addStage(
      r,
      {"build", StageStatus::ok, "https://github.com/acme/api/actions/runs/7001/job/1", at(-300)},
      at(-300));
  addStage(r, {"deploy", StageStatus::started, kDeployJob, at(-5)}, at(-5));
  return r;
}

json causesOf(Scenario& s, const Release& r, AnalysisOptions opt = {}, double now = 3 * 3600) {
  auto a = analyzeRelease(r, s, opt, at(now));
  json out = a.causesJson();
  if (std::getenv("ANALYSIS_TEST_DUMP"))
    std::cout << out.dump(2) << "\n";  // to read what a person sees
  return out;
}

bool openFirstHas(const json& cause, const std::string& url) {
  for (const auto& o : cause["open_first"]) {
    if (o.value("url", "") == url) return true;
  }
  return false;
}

// Evidence refs of a cause with the given role ("" = any) as "host:kind".
std::vector<std::string> evidence(const json& cause, const std::string& role = "") {
  std::vector<std::string> out;
  for (const auto& e : cause["evidence"]) {
    if (role.empty() || e["role"] == role)
      out.push_back(e["host"].get<std::string>() + ":" + e["kind"].get<std::string>());
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

const json* category(const json& report, const std::string& name) {
  for (const auto& c : report["causes"]) {
    if (c["category"] == name) return &c;
  }
  return nullptr;
}

void startAll(Scenario& s, double t = 0) {
  for (const auto& h : kHosts) s.deployStart(h, t, "r42", "api");
}

TEST(Causes, DeployScriptFailingEverywhere) {
  Scenario s;
  startAll(s);
  for (const auto& h : kHosts) {
    s.hook(h, 20, "r42", "api", "migrate", "./migrate.sh", 3,
           {"running migration 0042_add_index",
            "!ERROR:  relation \"orders_created_idx\" already exists"});
    s.deployFinish(h, 21, "r42", "api", false);
  }
  json r = causesOf(s, releaseWithDeployJob());
  EXPECT_EQ(r["status"], "failed");
  ASSERT_FALSE(r["causes"].empty());
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "deploy-script");
  EXPECT_EQ(top["hosts_affected"], 3);
  EXPECT_EQ(top["hosts_total"], 3);
  EXPECT_NE(top["title"].get<std::string>().find("migrate"), std::string::npos);
  EXPECT_NE(top["title"].get<std::string>().find("exited 3"), std::string::npos);
  EXPECT_NE(top["title"].get<std::string>().find("already exists"), std::string::npos);
  auto ev = evidence(top);
  for (const auto& h : kHosts) EXPECT_TRUE(contains(ev, h + ":hook.exit")) << h;
  EXPECT_TRUE(contains(ev, "web-1:hook.output"));  // the stderr line that says why
  EXPECT_TRUE(openFirstHas(top, kDeployJob));
  EXPECT_EQ(top["evidence"][0]["agent_id"].get<std::string>().rfind("agent-", 0), 0u);
  EXPECT_TRUE(top["evidence"][0].contains("seq"));
  EXPECT_FALSE(top["context"].get<bool>());
  EXPECT_FALSE(top["reasons"].empty());
}

TEST(Causes, DiskFullRanksAboveTheMigrationItBroke) {
  Scenario s;
  startAll(s);
  // web-2's data disk (a small tmpfs) fills while the migration runs; the migration then fails.
  s.hook("web-1", 30, "r42", "api", "migrate", "./migrate.sh", 0, {"applied 2 migrations"}, 20);
  s.hook("web-3", 31, "r42", "api", "migrate", "./migrate.sh", 0, {"applied 2 migrations"}, 20);
  s.diskFull("web-2", 25, "/var/lib/api", 99.2);
  s.hook("web-2", 32, "r42", "api", "migrate", "./migrate.sh", 1,
         {"applying 0043_backfill",
          "!could not extend file \"base/16384/24576\": No space left on device"},
         20);
  s.deployFinish("web-2", 33, "r42", "api", false);
  for (const auto& h : {"web-1", "web-3"}) s.deployFinish(h, 40, "r42", "api", true);
  s.diskFull("web-3", 3000, "/var/lib/api", 99);  // after the window: not linked at all
  json r = causesOf(s, releaseWithDeployJob());
  EXPECT_EQ(r["status"], "partially_failed");
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "resource-exhaustion");
  std::string title = top["title"];
  EXPECT_NE(title.find("disk full on /var/lib/api (99%)"), std::string::npos) << title;
  EXPECT_NE(title.find("1 of 3 hosts"), std::string::npos) << title;
  EXPECT_NE(title.find("during migrate"), std::string::npos) << title;
  EXPECT_EQ(top["hosts_affected"], 1);
  EXPECT_EQ(top["hosts"][0], "web-2");
  EXPECT_EQ(top["hosts_total"], 3);
  // The hook failure that followed is listed as a symptom under the root cause...
  EXPECT_TRUE(contains(evidence(top, "symptom"), "web-2:hook.exit"));
  EXPECT_TRUE(contains(evidence(top, "cause"), "web-2:disk.full"));
  EXPECT_TRUE(openFirstHas(top, kDeployJob));
  // ...and also ranks below it as its own (flaky) cause, explained as a symptom.
  const json* hook = category(r, "flaky-deploy");
  ASSERT_NE(hook, nullptr);
  EXPECT_LT((*hook)["score"].get<double>(), top["score"].get<double>());
  EXPECT_NE((*hook)["reasons"].dump().find("symptom"), std::string::npos);
}

TEST(Causes, OomKillOfTheServiceDuringTheDeploy) {
  Scenario s;
  startAll(s);
  for (const auto& h : kHosts) s.deployFinish(h, 30, "r42", "api", true);
  for (const auto& h : {"web-1", "web-2"}) {
    s.oomKill(h, 45, "api", 4242, "/system.slice/api.service", 1572864);
    s.unitFailed(h, 46, "api.service", "oom-kill", -1, true);
    s.unitFailed(h, 50, "api.service", "start-limit-hit", 1);
  }
  json r = causesOf(s, releaseWithDeployJob());
  EXPECT_EQ(r["status"], "partially_failed");
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "resource-exhaustion");
  EXPECT_EQ(top["hosts_affected"], 2);
  EXPECT_NE(top["title"].get<std::string>().find("OOM kill of api"), std::string::npos)
      << top["title"];
  EXPECT_NE(top["title"].get<std::string>().find("1.5 GiB"), std::string::npos) << top["title"];
  EXPECT_TRUE(contains(evidence(top, "cause"), "web-1:oom.kill"));
  const json* orch = category(r, "orchestration");
  ASSERT_NE(orch, nullptr);
  EXPECT_NE((*orch)["title"].get<std::string>().find("start-limit-hit"), std::string::npos);
  EXPECT_LT((*orch)["score"].get<double>(), top["score"].get<double>());
}

TEST(Causes, SameHookFailingOnOneOfThreeHostsIsFlaky) {
  Scenario s;
  startAll(s);
  s.hook("web-1", 20, "r42", "api", "smoke", "./smoke.sh", 0, {"GET /healthz 200"});
  s.hook("web-2", 20, "r42", "api", "smoke", "./smoke.sh", 0, {"GET /healthz 200"});
  s.hook("web-3", 20, "r42", "api", "smoke", "./smoke.sh", 7,
         {"!curl: (7) Failed to connect to localhost port 8080"});
  for (const auto& h : kHosts) s.deployFinish(h, 25, "r42", "api", h != "web-3");
  json r = causesOf(s, releaseWithDeployJob());
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "flaky-deploy");
  EXPECT_EQ(top["hosts_affected"], 1);
  EXPECT_EQ(top["hosts_total"], 3);
  EXPECT_EQ(top["hosts"][0], "web-3");
  EXPECT_NE(top["title"].get<std::string>().find("failed on 1 of 3 hosts"), std::string::npos)
      << top["title"];
  EXPECT_TRUE(contains(evidence(top, "cause"), "web-3:hook.exit"));
  EXPECT_TRUE(contains(evidence(top, "passed"), "web-1:hook.exit"));
  EXPECT_TRUE(openFirstHas(top, kDeployJob));
}

TEST(Causes, HookPassingOnRetryIsFlaky) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.hook("web-1", 10, "r42", "api", "migrate", "./migrate.sh", 1,
         {"!could not obtain lock on relation \"orders\""});
  s.hook("web-1", 40, "r42", "api", "migrate", "./migrate.sh", 0, {"applied 1 migration"});
  s.deployFinish("web-1", 45, "r42", "api", true);
  json r = causesOf(s, releaseWithDeployJob({"web-1"}));
  EXPECT_EQ(r["status"], "succeeded");
  ASSERT_EQ(r["causes"].size(), 1u);
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "flaky-deploy");
  EXPECT_NE(top["title"].get<std::string>().find("passed on retry"), std::string::npos);
  // The release went fine: this is context, low-scored.
  EXPECT_TRUE(top["context"].get<bool>());
  EXPECT_LE(top["score"].get<double>(), 0.1);
}

TEST(Causes, UnrelatedOomIsNotRankedAboveTheRealCause) {
  Scenario s;
  s.oomKill("web-1", -4000, "api", 1111,
            "/system.slice/api.service");  // the service, long before the window
  startAll(s);
  s.oomKill("web-1", 15, "stress-ng", 9999,
            "/user.slice/user-1000.slice/session-4.scope");  // another process
  for (const auto& h : kHosts) {
    s.hook(h, 20, "r42", "api", "configure", "./render-config.sh", 2,
           {"!template: missing key \"db_host\""});
    s.deployFinish(h, 21, "r42", "api", false);
  }
  json r = causesOf(s, releaseWithDeployJob());
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "deploy-script");
  EXPECT_EQ(top["hosts_affected"], 3);
  for (const auto& c : r["causes"]) {
    if (c["category"] != "resource-exhaustion") continue;
    EXPECT_TRUE(c["context"].get<bool>()) << c.dump();
    EXPECT_NE(c["title"].get<std::string>().find("stress-ng"), std::string::npos);
    EXPECT_LT(c["score"].get<double>(), top["score"].get<double>());
  }
  EXPECT_EQ(r.dump().find("1111"), std::string::npos);  // the old OOM is not linked
}

TEST(Causes, HealthyReleaseHasNoCauses) {
  Scenario s;
  startAll(s);
  for (const auto& h : kHosts) {
    s.artifact(h, 5, "r42", "api", makeRelease("r42").artifactDigest);
    s.fingerprint(h, 5, "r42", "api", true,
                  {{"/etc/api/api.toml", "file", "a1"}, {"API_MODE", "env", "b2"}});
    s.hook(h, 20, "r42", "api", "migrate", "./migrate.sh", 0, {"nothing to migrate"});
    s.deployFinish(h, 25, "r42", "api", true);
    s.health(h, 40, "r42", "api", "http", false, "200");
  }
  json r = causesOf(s, releaseWithDeployJob());
  EXPECT_EQ(r["status"], "succeeded");
  for (const auto& c : r["causes"]) {
    EXPECT_TRUE(c["context"].get<bool>()) << c.dump();
    EXPECT_LE(c["score"].get<double>(), 0.1);
  }
  EXPECT_TRUE(r["causes"].empty());
  EXPECT_NE(r["advice"].get<std::string>().find("No failures"), std::string::npos);
  EXPECT_FALSE(r["rollback_advised"].get<bool>());
}

TEST(Causes, ServiceFailingEverywhereAfterTheDeployAdvisesRollback) {
  Scenario s;
  startAll(s);
  for (const auto& h : kHosts) {
    s.deployFinish(h, 30, "r42", "api", true);
    s.unitFailed(h, 40, "api.service", "exit-code", 1);
    s.unitFailed(h, 52, "api.service", "start-limit-hit", 1);
    s.health(h, 60, "r42", "api", "http", true, "connection refused");
  }
  auto a = analyzeRelease(releaseWithDeployJob(), s, {}, at(3600));
  json r = a.causesJson();
  EXPECT_EQ(r["status"], "failed");
  EXPECT_TRUE(r["rollback_advised"].get<bool>());
  std::string advice = r["advice"];
  EXPECT_NE(advice.find("Rolling back is advised"), std::string::npos) << advice;
  EXPECT_NE(advice.find("evidence is kept"), std::string::npos) << advice;
  const json& top = r["causes"][0];
  EXPECT_EQ(top["category"], "orchestration");
  EXPECT_EQ(top["hosts_affected"], 3);
  EXPECT_TRUE(openFirstHas(top, kDeployJob));
  EXPECT_FALSE(top["evidence"].empty());
}

TEST(Causes, PipelineStageFailedBeforeAnyHost) {
  Scenario s;
  Release r = makeRelease("r42", "api", kHosts);
  addStage(r,
           {"build", StageStatus::ok, "https://github.com/acme/api/actions/runs/7001/job/1", at(0)},
           at(0));
  addStage(
      r,
      {"push", StageStatus::started, "https://github.com/acme/api/actions/runs/7001/job/4", at(10)},
      at(10));
  addStage(
      r,
      {"push", StageStatus::failed, "https://github.com/acme/api/actions/runs/7001/job/4", at(20)},
      at(20));
  json j = causesOf(s, r);
  EXPECT_EQ(j["status"], "pipeline_failed");
  ASSERT_EQ(j["causes"].size(), 1u);
  const json& top = j["causes"][0];
  EXPECT_EQ(top["category"], "pipeline");
  EXPECT_NE(top["title"].get<std::string>().find("'push'"), std::string::npos);
  EXPECT_NE(top["title"].get<std::string>().find("never reached a host"), std::string::npos);
  EXPECT_TRUE(openFirstHas(top, "https://github.com/acme/api/actions/runs/7001/job/4"));
  EXPECT_NE(j["advice"].get<std::string>().find("job/4"), std::string::npos);
}

TEST(Causes, ArtifactDigestDiffersFromWhatCiRegistered) {
  Scenario s;
  startAll(s);
  Release r = releaseWithDeployJob();
  s.artifact("web-1", 5, "r42", "api", r.artifactDigest);
  s.artifact("web-2", 5, "r42", "api",
             "registry.acme.io/"
             "api@sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9");
  s.artifact("web-3", 5, "r42", "api",
             "registry.acme.io/api@" + r.artifactDigest);  // a RepoDigest: same
  for (const auto& h : kHosts) s.deployFinish(h, 30, "r42", "api", true);
  s.unitFailed("web-2", 40, "api.service", "exit-code", 1);
  json j = causesOf(s, r);
  const json& top = j["causes"][0];
  EXPECT_EQ(top["category"], "artifact-mismatch");
  EXPECT_EQ(top["hosts"], json({"web-2"}));
  EXPECT_NE(top["title"].get<std::string>().find("sha256:fcde2b2edba5"), std::string::npos)
      << top["title"];
  EXPECT_NE(top["title"].get<std::string>().find("sha256:2c26b46b68ff"), std::string::npos)
      << top["title"];
  EXPECT_TRUE(openFirstHas(top, r.jobUrls.front()));
  EXPECT_TRUE(contains(evidence(top, "symptom"), "web-2:unit.failed"));
}

TEST(Causes, ConfigOfTheFailingHostDiffersFromHealthyHosts) {
  Scenario s;
  std::vector<std::string> hosts = {"web-1", "web-2"};
  for (const auto& h : hosts) s.deployStart(h, 0, "r42", "api");
  s.fingerprint("web-1", 5, "r42", "api", true,
                {{"/etc/api/api.toml", "file", "9a1c"}, {"API_MODE", "env", "77aa"}});
  s.fingerprint("web-2", 5, "r42", "api", true,
                {{"/etc/api/api.toml", "file", "41f0"}, {"API_MODE", "env", "77aa"}});
  for (const auto& h : hosts) s.deployFinish(h, 30, "r42", "api", true);
  s.unitFailed("web-2", 35, "api.service", "exit-code", 78);
  json j = causesOf(s, releaseWithDeployJob(hosts));
  const json& top = j["causes"][0];
  EXPECT_EQ(top["category"], "config-drift");
  std::string title = top["title"];
  EXPECT_NE(title.find("web-2"), std::string::npos) << title;
  EXPECT_NE(title.find("/etc/api/api.toml"), std::string::npos) << title;
  EXPECT_EQ(title.find("API_MODE"), std::string::npos) << title;
  EXPECT_TRUE(contains(evidence(top, "cause"), "web-2:config.fingerprint"));
  EXPECT_TRUE(contains(evidence(top, "passed"), "web-1:config.fingerprint"));
}

TEST(Causes, ConfigAndDependenciesChangedSinceTheLastGoodRelease) {
  Scenario s;
  // r41 deployed fine on both hosts an hour earlier.
  for (const auto& h : {"web-1", "web-2"}) {
    s.deployStart(h, -3600, "r41", "api");
    s.fingerprint(h, -3595, "r41", "api", true,
                  {{"/etc/api/api.toml", "file", "9a1c"}, {"API_MODE", "env", "77aa"}});
    s.fingerprint(h, -3595, "r41", "api", false, {{"package-lock.json", "file", "d00d"}});
    s.deployFinish(h, -3590, "r41", "api", true);
  }
  for (const auto& h : {"web-1", "web-2"}) {
    s.deployStart(h, 0, "r42", "api");
    s.fingerprint(h, 5, "r42", "api", true,
                  {{"/etc/api/api.toml", "file", "9a1c"}, {"API_MODE", "env", "0b0e"}});
    s.fingerprint(h, 5, "r42", "api", false, {{"package-lock.json", "file", "beef"}});
    s.deployFinish(h, 30, "r42", "api", true);
    s.unitFailed(h, 35, "api.service", "exit-code", 1);
  }
  AnalysisOptions opt;
  opt.previousReleases = {"r41"};
  json j = causesOf(s, releaseWithDeployJob({"web-1", "web-2"}), opt);
  const json* config = category(j, "config-drift");
  const json* deps = category(j, "dependency-change");
  ASSERT_NE(config, nullptr) << j.dump(2);
  ASSERT_NE(deps, nullptr) << j.dump(2);
  EXPECT_NE((*config)["title"].get<std::string>().find("env API_MODE"), std::string::npos)
      << (*config)["title"];
  EXPECT_NE((*config)["title"].get<std::string>().find("r41"), std::string::npos);
  EXPECT_EQ((*config)["hosts_affected"], 2);
  EXPECT_NE((*deps)["title"].get<std::string>().find("package-lock.json"), std::string::npos);
  // Root causes above the unit failure they explain.
  EXPECT_NE(j["causes"][0]["category"], "orchestration");
  const json* orch = category(j, "orchestration");
  ASSERT_NE(orch, nullptr);
  EXPECT_LT((*orch)["score"].get<double>(), (*config)["score"].get<double>());
  // Without history, there is nothing to compare with.
  json none = causesOf(s, releaseWithDeployJob({"web-1", "web-2"}));
  EXPECT_EQ(category(none, "config-drift"), nullptr);
}

TEST(Causes, ContainerThatFailsToStartIsOrchestration) {
  Scenario s;
  startAll(s);
  for (const auto& h : kHosts) {
    s.deployFinish(h, 20, "r42", "api", true);
    s.containerFailed(h, 25, "api-1", "registry.acme.io/api:1.4.2", 127,
                      "exec: \"/app/server\": stat /app/server: no such file or directory");
  }
  json j = causesOf(s, releaseWithDeployJob());
  const json& top = j["causes"][0];
  EXPECT_EQ(top["category"], "orchestration");
  EXPECT_EQ(top["hosts_affected"], 3);
  EXPECT_NE(top["title"].get<std::string>().find("no such file"), std::string::npos);
  EXPECT_TRUE(j["rollback_advised"].get<bool>());
}

TEST(Causes, RecoveredHealthProbeIsNotAFailure) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.deployFinish("web-1", 20, "r42", "api", true);
  s.health("web-1", 25, "r42", "api", "http", true);
  s.health("web-1", 55, "r42", "api", "http", false, "200");
  json j = causesOf(s, releaseWithDeployJob({"web-1"}));
  EXPECT_EQ(j["status"], "succeeded");
  for (const auto& c : j["causes"]) {
    EXPECT_TRUE(c["context"].get<bool>()) << c.dump();
    EXPECT_LE(c["score"].get<double>(), 0.1);
  }
}

}  // namespace
}  // namespace octolaunch::analysis
