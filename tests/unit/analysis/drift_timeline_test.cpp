// Drift across a service's hosts, and the release timeline.
#include <gtest/gtest.h>

#include "collector/analysis/drift.h"
#include "scenario.h"

namespace octolaunch::analysis {
namespace {

using nlohmann::json;
using testing::at;
using testing::makeRelease;
using testing::Scenario;

TEST(Drift, NamesTheHostAndTheFileThatDifferFromTheMajority) {
  Scenario s;
  for (const auto& h : {"web-1", "web-2", "web-3"}) {
    bool odd = std::string(h) == "web-3";
    s.fingerprint(h, 0, "r41", "api", true,
                  {{"/etc/api/api.toml", "file", "9a1c"}, {"API_MODE", "env", "77aa"}});
    // Newer fingerprints replace older ones: only web-3's latest differs.
    s.fingerprint(
        h, 100, "r42", "api", true,
        {{"/etc/api/api.toml", "file", odd ? "41f0" : "9a1c"}, {"API_MODE", "env", "77aa"}});
    s.fingerprint(h, 100, "r42", "api", false, {{"package-lock.json", "file", "d00d"}});
  }
  s.fingerprint("db-1", 100, "r9", "postgres", true,
                {{"/etc/postgresql/15/main/postgresql.conf", "file", "1"}});
  json d = driftReport(s, "api", at(-10), "", {});
  EXPECT_TRUE(d["drift"].get<bool>());
  EXPECT_EQ(d["hosts_total"], 3);
  ASSERT_EQ(d["hosts"].size(), 1u);
  EXPECT_EQ(d["hosts"][0]["host"], "web-3");
  EXPECT_EQ(d["hosts"][0]["config"], json({"/etc/api/api.toml"}));
  EXPECT_TRUE(d["hosts"][0]["dependency"].empty());
  for (const auto& q : s.queries) EXPECT_FALSE(q.kind.empty());  // read by kind, not a scan
}

TEST(Drift, NoMajorityBlamesEveryHostAndAgreementIsNoDrift) {
  std::vector<HostFingerprint> two = {{"a", {{"API_MODE", "env", "1"}}, 0, {}, ""},
                                      {"b", {{"API_MODE", "env", "2"}}, 0, {}, ""}};
  auto d = driftFromMajority(two);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d["a"], std::vector<std::string>{"env API_MODE"});
  std::vector<HostFingerprint> same = {{"a", {{"x", "file", "1"}}, 0, {}, ""},
                                       {"b", {{"x", "file", "1"}}, 0, {}, ""}};
  EXPECT_TRUE(driftFromMajority(same).empty());
  // A file missing on one host of three is drift on that host.
  std::vector<HostFingerprint> missing = {{"a", {{"x", "file", "1"}}, 0, {}, ""},
                                          {"b", {{"x", "file", "1"}}, 0, {}, ""},
                                          {"c", {}, 0, {}, ""}};
  auto m = driftFromMajority(missing);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m["c"], std::vector<std::string>{"x"});
}

TEST(Drift, EnvironmentFilterUsesTheReleaseEnvironment) {
  Scenario s;
  s.fingerprint("web-1", 0, "r42", "api", true, {{"x", "file", "1"}});
  s.fingerprint("web-2", 0, "r42", "api", true, {{"x", "file", "1"}});
  s.fingerprint("stage-1", 0, "r42-staging", "api", true, {{"x", "file", "2"}});
  auto env = [](const std::string& release) {
    return release.ends_with("-staging") ? "staging" : "production";
  };
  EXPECT_FALSE(driftReport(s, "api", at(-1), "production", env)["drift"].get<bool>());
  EXPECT_EQ(driftReport(s, "api", at(-1), "production", env)["hosts_total"], 2);
  EXPECT_TRUE(driftReport(s, "api", at(-1), "", env)["drift"].get<bool>());
}

TEST(Timeline, EventsPerHostInTimeOrderWithWindowsAndStages) {
  Scenario s;
  Release r = makeRelease("r42", "api", {"web-1", "web-2", "web-3"});
  addStage(r, {"build", StageStatus::ok, "https://ci/job/1", at(-100)}, at(-100));
  s.deployStart("web-2", 0, "r42", "api");
  s.deployStart("web-1", 1, "r42", "api");
  s.hook("web-1", 10, "r42", "api", "migrate", "./migrate.sh", 0, {"one", "two"});
  s.hook("web-2", 9, "r42", "api", "migrate", "./migrate.sh", 4, {"!boom"});
  s.diskFull("web-2", 5, "/var", 97);
  s.deployFinish("web-1", 20, "r42", "api", true);
  s.deployFinish("web-2", 20, "r42", "api", false);
  auto a = analyzeRelease(r, s, {}, at(100));
  json t = a.timelineJson();
  EXPECT_EQ(t["release"], "r42");
  EXPECT_EQ(t["status"], "partially_failed");
  EXPECT_EQ(t["stages"][0]["name"], "build");
  EXPECT_EQ(t["events_total"], 10);
  ASSERT_EQ(t["hosts"].size(), 3u);
  const json& web1 = t["hosts"][0];
  EXPECT_EQ(web1["host"], "web-1");
  EXPECT_EQ(web1["state"], "succeeded");
  EXPECT_EQ(web1["windows"].size(), 1u);
  ASSERT_EQ(web1["events"].size(), 5u);
  EXPECT_EQ(web1["events"][0]["kind"], "deploy.start");
  EXPECT_EQ(web1["events"][1]["summary"], "[migrate stdout] one");
  EXPECT_EQ(web1["events"][3]["kind"], "hook.exit");
  // What a mark needs to say what it is, without another request.
  EXPECT_EQ(web1["events"][3]["exit_code"], 0);
  EXPECT_EQ(web1["events"][4]["outcome"], "ok");
  EXPECT_FALSE(web1["events"][0].contains("open_at_start"));
  std::int64_t prev = 0;
  for (const auto& e : web1["events"]) {
    EXPECT_GE(e["time_ns"].get<std::int64_t>(), prev);
    prev = e["time_ns"];
  }
  const json& web2 = t["hosts"][1];
  EXPECT_EQ(web2["state"], "failed");
  EXPECT_EQ(web2["events"][1]["kind"], "disk.full");
  EXPECT_EQ(web2["events"][1]["link"], "context");
  EXPECT_EQ(web2["events"][1]["raised"], true);
  const json& failedHook = web2["events"][3];  // after its output line
  EXPECT_EQ(failedHook["kind"], "hook.exit");
  EXPECT_EQ(failedHook["exit_code"], 4);
  ASSERT_TRUE(failedHook.contains("output_tail")) << failedHook.dump();
  EXPECT_FALSE(failedHook["output_tail"].empty());
  EXPECT_EQ(web2["events"].back()["outcome"], "failed");
  EXPECT_EQ(t["hosts"][2]["state"], "pending");
  EXPECT_TRUE(t["hosts"][2]["events"].empty());
  // A cap per host keeps the earliest events and counts the rest.
  json capped = a.timelineJson({2});
  EXPECT_EQ(capped["hosts"][0]["events"].size(), 2u);
  EXPECT_EQ(capped["hosts"][0]["events_omitted"], 3);
}

TEST(Timeline, AConditionOpenBeforeTheDeployIsMarkedOpenAtStart) {
  Scenario s;
  Release r = makeRelease("r43", "api", {"web-1"});
  s.diskFull("web-1", -30, "/var", 99);
  s.deployStart("web-1", 0, "r43", "api");
  s.hook("web-1", 5, "r43", "api", "migrate", "./migrate.sh", 1, {"!no space left on device"});
  s.deployFinish("web-1", 6, "r43", "api", false);
  json t = analyzeRelease(r, s, {}, at(100)).timelineJson();
  ASSERT_EQ(t["hosts"].size(), 1u);
  bool seen = false;
  for (const json& e : t["hosts"][0]["events"]) {
    if (e["kind"] != "disk.full") {
      EXPECT_FALSE(e.contains("open_at_start")) << e.dump();
      continue;
    }
    seen = true;
    EXPECT_EQ(e.value("open_at_start", false), true) << e.dump();
  }
  EXPECT_TRUE(seen) << t.dump(2);
}

}  // namespace
}  // namespace octolaunch::analysis
