// Deploy windows, linking and deploy state, driven through analyzeRelease with an in-memory source.
#include <gtest/gtest.h>

#include "scenario.h"

namespace octolaunch::analysis {
namespace {

using testing::at;
using testing::kSec;
using testing::makeRelease;
using testing::Scenario;

const LinkedFact* findLinked(const ReleaseAnalysis& a, const std::string& kind,
                             const std::string& host) {
  for (const auto& l : a.linked) {
    if (l.fact.kind == kind && l.fact.host == host) return &l;
  }
  return nullptr;
}

TEST(DeployWindow, FinishPlusGraceAndUnfinishedAfterTheMaximum) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.deployFinish("web-1", 60, "r42", "api", true);
  s.deployStart("web-2", 0, "r42", "api");  // never finishes
  auto a = analyzeRelease(makeRelease("r42"), s, {}, at(7200));
  ASSERT_EQ(a.windows.size(), 2u);
  EXPECT_EQ(a.windows[0].host, "web-1");
  EXPECT_EQ(a.windows[0].endNs, at(60) + 15 * 60 * kSec);
  EXPECT_FALSE(a.windows[0].unfinished);
  EXPECT_EQ(a.windows[1].endNs, at(3600));
  EXPECT_TRUE(a.windows[1].unfinished);
  EXPECT_EQ(a.state.host("web-1")->state, HostState::succeeded);
  EXPECT_EQ(a.state.host("web-2")->state, HostState::failed);
  EXPECT_NE(a.state.host("web-2")->reason.find("never finished"), std::string::npos);
  EXPECT_EQ(a.state.status, "partially_failed");
  // Still inside the maximum: in progress, not failed.
  auto early = analyzeRelease(makeRelease("r42"), s, {}, at(600));
  EXPECT_EQ(early.state.host("web-2")->state, HostState::inProgress);
  EXPECT_EQ(early.state.status, "in_progress");
}

TEST(DeployWindow, ALaterReleaseEndsTheWindowAndAnOlderOneAgainIsARollback) {
  Scenario s;
  s.deployStart("web-1", 0, "r41", "api");
  s.deployFinish("web-1", 30, "r41", "api", true);
  s.deployStart("web-1", 1000, "r42", "api");  // r42 starts; never finishes
  s.unitFailed("web-1", 1100, "api.service", "exit-code");
  s.deployStart("web-1", 1500, "r41", "api");  // r41 again: a rollback
  s.deployFinish("web-1", 1530, "r41", "api", true);
  s.unitFailed("web-1", 1600, "api.service", "exit-code");  // after r42's window: r41's problem
  s.deployStart("web-1", 0, "r7", "billing");               // another service: ignored
  AnalysisOptions opt;
  opt.order = {{"r41", at(-100)}, {"r42", at(900)}};
  auto r42 = analyzeRelease(makeRelease("r42"), s, opt, at(4000));
  ASSERT_EQ(r42.windows.size(), 1u);
  EXPECT_EQ(r42.windows[0].supersededBy, "r41");
  EXPECT_EQ(r42.windows[0].endNs, at(1500));
  EXPECT_EQ(r42.state.host("web-1")->state, HostState::failed);
  int unitFailures = 0;
  for (const auto& l : r42.linked) unitFailures += l.fact.kind == "unit.failed" ? 1 : 0;
  EXPECT_EQ(unitFailures, 1);

  auto r41 = analyzeRelease(makeRelease("r41"), s, opt, at(4000));
  ASSERT_EQ(r41.windows.size(), 2u);
  EXPECT_FALSE(r41.windows[0].rollback);
  EXPECT_EQ(r41.windows[0].endNs, at(30) + 15 * 60 * kSec);  // r42 came after the grace
  EXPECT_TRUE(r41.windows[0].supersededBy.empty());
  EXPECT_TRUE(r41.windows[1].rollback);
  EXPECT_EQ(r41.windows[1].rolledBackFrom, "r42");
  EXPECT_TRUE(r41.state.host("web-1")->rollback);
  auto view = r41.viewJson();
  EXPECT_EQ(view["hosts"][0]["windows"][1]["rolled_back_from"], "r42");
}

TEST(DeployWindow, WithoutOrderTheFirstDeployTellsOlderFromNewer) {
  Scenario s;
  s.deployStart("web-1", 0, "r41", "api");
  s.deployFinish("web-1", 30, "r41", "api", true);
  s.deployStart("web-1", 100, "r42", "api");
  s.deployFinish("web-1", 130, "r42", "api", true);
  s.deployStart("web-1", 5000, "r41", "api");
  s.deployFinish("web-1", 5030, "r41", "api", true);
  auto a = analyzeRelease(makeRelease("r41"), s, {}, at(9000));
  ASSERT_EQ(a.windows.size(), 2u);
  EXPECT_EQ(a.windows[0].supersededBy, "r42");
  EXPECT_TRUE(a.windows[1].rollback);
}

TEST(Linker, LinksServiceEventsInTheWindowAndHostExhaustionAsContext) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.deployFinish("web-1", 60, "r42", "api", true);
  s.unitFailed("web-1", 120, "api.service", "exit-code");         // service, in window
  s.unitFailed("web-1", 130, "postgresql.service", "exit-code");  // another service: not linked
  s.diskFull("web-1", 140, "/var", 97);                           // host-wide: context
  s.oomKill("web-1", 150, "stress", 777,
            "/user.slice/user-1000.slice/session-3.scope");  // other process: context
  s.unitFailed("web-1", 60 + 15 * 60 + 5, "api.service",
               "exit-code");                               // after the grace: not linked
  s.unitFailed("web-2", 120, "api.service", "exit-code");  // host without a deploy: not linked
  auto c = s.add("web-1", 125, "r99", "api");              // carries another release: not linked
  c.getPayload().initHealthFailed().setProbe("http");
  auto a = analyzeRelease(makeRelease("r42"), s, {}, at(5000));
  ASSERT_EQ(a.linked.size(), 5u);  // 2 markers, unit, disk, oom
  EXPECT_EQ(findLinked(a, "unit.failed", "web-1")->how, LinkKind::service);
  EXPECT_EQ(findLinked(a, "unit.failed", "web-1")->fact.unit, "api.service");
  EXPECT_EQ(findLinked(a, "disk.full", "web-1")->how, LinkKind::context);
  EXPECT_EQ(findLinked(a, "oom.kill", "web-1")->how, LinkKind::context);
  EXPECT_EQ(findLinked(a, "unit.failed", "web-2"), nullptr);
  EXPECT_EQ(findLinked(a, "health.failed", "web-1"), nullptr);
}

TEST(Linker, ConfiguredMappingLinksContainersAndProcesses) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.containerFailed("web-1", 10, "gateway-1", "registry.acme.io/edge:7", 1,
                    "port is already allocated");
  s.oomKill("web-1", 20, "gunicorn", 4242, "/system.slice/docker-3f4e5d6c7b8a.scope");
  auto plain = analyzeRelease(makeRelease("r42"), s, {}, at(100));
  EXPECT_EQ(findLinked(plain, "container.failed", "web-1"), nullptr);
  EXPECT_EQ(findLinked(plain, "oom.kill", "web-1")->how, LinkKind::context);
  AnalysisOptions opt;
  opt.mappings["api"].images = {"registry.acme.io/edge"};
  opt.mappings["api"].processes = {"gunicorn"};
  auto mapped = analyzeRelease(makeRelease("r42"), s, opt, at(100));
  EXPECT_EQ(findLinked(mapped, "container.failed", "web-1")->how, LinkKind::service);
  EXPECT_EQ(findLinked(mapped, "oom.kill", "web-1")->how, LinkKind::service);
}

TEST(Linker, NeverScansTheWholeStore) {
  Scenario s;
  for (int i = 0; i < 200; ++i)
    s.unitFailed("other-" + std::to_string(i % 5), i, "api.service", "exit-code");
  s.deployStart("web-1", 1000, "r42", "api");
  s.deployFinish("web-1", 1060, "r42", "api", true);
  for (int i = 0; i < 50; ++i)
    s.unitFailed("web-1", 5000 + i * 10, "api.service", "exit-code");  // later
  auto a = analyzeRelease(makeRelease("r42"), s, {}, at(9000));
  for (const auto& q : s.queries) {
    EXPECT_TRUE(!q.release.empty() || !q.host.empty() || !q.kind.empty()) << "an unfiltered query";
    if (q.release.empty()) {
      EXPECT_TRUE(q.sinceNs && q.untilNs) << "a host or kind query without a time range";
    }
  }
  EXPECT_LE(a.eventsRead, 8u);  // the release's 2 markers, twice, and nothing of the other hosts
  EXPECT_EQ(a.linked.size(), 2u);
}

TEST(Linker, LateRegistrationLinksRetroactively) {
  Scenario s;
  // Everything happens before CI registers the release.
  s.deployStart("web-1", 0, "r42", "api");
  s.hook("web-1", 30, "r42", "api", "migrate", "./migrate.sh", 0, {"applied 3 migrations"});
  s.deployFinish("web-1", 40, "r42", "api", true);
  s.unitFailed("web-1", 100, "api.service", "exit-code");
  Release late = makeRelease("r42");
  late.createdNs = at(3000);
  auto a = analyzeRelease(late, s, {}, at(3001));
  EXPECT_NE(findLinked(a, "unit.failed", "web-1"), nullptr);
  EXPECT_EQ(a.state.host("web-1")->state, HostState::failed);
  EXPECT_TRUE(a.state.host("web-1")->afterDeploy);
}

TEST(DeployState, TargetsArePendingAndCountInHostsTotal) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.deployFinish("web-1", 20, "r42", "api", true);
  s.deployStart("web-9", 0, "r42", "api");  // not declared, but reported
  s.deployFinish("web-9", 20, "r42", "api", true);
  auto a = analyzeRelease(makeRelease("r42", "api", {"web-1", "web-2", "web-3"}), s, {}, at(100));
  EXPECT_EQ(a.state.total(), 4);
  EXPECT_EQ(a.state.pending, 2);
  EXPECT_EQ(a.state.succeeded, 2);
  EXPECT_EQ(a.state.status, "in_progress");
  EXPECT_FALSE(a.state.host("web-9")->declared);
  EXPECT_TRUE(a.state.host("web-2")->declared);
  auto view = a.viewJson();
  EXPECT_EQ(view["hosts_total"], 4);
  EXPECT_EQ(view["hosts_pending"], 2);
  EXPECT_EQ(view["status"], "in_progress");
  EXPECT_EQ(view["id"], "r42");
}

TEST(DeployState, HookOnlyDeployGetsAnInferredWindow) {
  Scenario s;
  s.hook("web-1", 10, "r42", "api", "build", "make", 0, {"ok"});
  s.hook("web-2", 10, "r42", "api", "build", "make", 2, {"!make: *** [all] Error 2"});
  s.unitFailed("web-2", 12, "api.service", "exit-code");
  auto a = analyzeRelease(makeRelease("r42"), s, {}, at(5000));
  ASSERT_EQ(a.windows.size(), 2u);
  EXPECT_TRUE(a.windows[0].inferred);
  EXPECT_EQ(a.state.host("web-1")->state, HostState::succeeded);
  EXPECT_EQ(a.state.host("web-2")->state, HostState::failed);
  EXPECT_NE(findLinked(a, "unit.failed", "web-2"), nullptr);
}

TEST(DeployState, AHookThatPassesOnRetryIsNotAFailure) {
  Scenario s;
  s.deployStart("web-1", 0, "r42", "api");
  s.hook("web-1", 10, "r42", "api", "migrate", "./migrate.sh", 1, {"!lock timeout"});
  s.hook("web-1", 20, "r42", "api", "migrate", "./migrate.sh", 0, {"applied"});
  s.deployFinish("web-1", 30, "r42", "api", true);
  auto a = analyzeRelease(makeRelease("r42"), s, {}, at(100));
  EXPECT_EQ(a.state.host("web-1")->state, HostState::succeeded);
  EXPECT_EQ(a.state.status, "succeeded");
}

TEST(DeployState, PipelineFailureBeforeAnyHost) {
  Scenario s;
  Release r = makeRelease("r42", "api", {"web-1"});
  addStage(r, {"build", StageStatus::ok, "https://ci/job/1", at(0)}, at(0));
  addStage(r, {"push", StageStatus::failed, "https://ci/job/2", at(10)}, at(10));
  auto a = analyzeRelease(r, s, {}, at(100));
  EXPECT_EQ(a.state.status, "pipeline_failed");
  EXPECT_EQ(a.state.pending, 1);
}

}  // namespace
}  // namespace octolaunch::analysis
