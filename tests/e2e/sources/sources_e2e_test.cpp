// End to end: the real `octolaunch-agent run` with its kmsg and cgroup sources on, a real
// collector, and a real kernel OOM kill in a v1 memory cgroup. The kill must be queryable over
// HTTP as exactly one oom.kill with the victim's pid and cgroup within 2 s of the victim's death,
// tagged with the service whose unit it hit.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/support/harness.h"
#include "tests/support/skip.h"
#include "tests/unit/sources/memcg_v1.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

std::vector<nlohmann::json> killsOf(int httpPort, pid_t pid) {
  std::vector<nlohmann::json> out;
  for (const auto& e : allEvents(httpPort, "kind=oom.kill")) {
    if (e["data"].value("pid", 0) == pid) out.push_back(e);
  }
  return out;
}

TEST(SourcesEndToEnd, RealKernelOomKillReachesTheCollectorAsOneOomKillWithinTwoSeconds) {
  if (auto why = memcgV1Unavailable(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  TempDir dir;
  CollectorProcess collector{{.dataDir = dir / "collector"}};
  collector.start();

  const auto slice = "octolaunch-e2e-" + std::to_string(::getpid());
  MemcgV1 sliceCg(slice, 1u << 30);
  {
    std::ofstream config(dir / "agent.toml");
    config << "[sources.cgroup]\nslices = [\"" << slice << "\"]\ndedupe_window_ms = 500\n"
           << "[sources.psi]\nenabled = false\n[sources.disk]\nenabled = "
              "false\n[sources.fd]\nenabled = false\n"
           << "[sources.journal]\nenabled = false\n[sources.containers]\nenabled = false\n"
           << "[service.api]\nunits = [\"api.service\"]\n";
  }
  Process agent(
      {.argv = {binPath("octolaunch-agent"), "run", "--config", (dir / "agent.toml").string(),
                "--spool-dir", (dir / "spool").string(), "--agent-id", "e2e-sources", "--host",
                "oomhost", "--collector", collector.rpcAddress()},
       .captureStdout = true,
       .captureStderr = true});
  // The agent logs "host sources running: ..." once its sources have started.
  bool started = false;
  for (int i = 0; i < 500 && !started; ++i) {
    agent.readAllStdout(10ms);
    started = agent.stderrText().find("sources running:") != std::string::npos ||
              agent.stderrText().find("sources: running:") != std::string::npos;
  }
  if (!started) {
    OCTOLAUNCH_SKIP_UNLESS_CI(
        "octolaunch-agent run did not report its host sources running within 5 s: " +
        agent.stderrText());
  }
  ASSERT_NE(agent.stderrText().find("kmsg"), std::string::npos) << agent.stderrText();

  MemcgV1 unit(slice + "/api.service", 24u << 20);
  const pid_t pid = unit.spawnHog();
  const auto status = waitChild(pid, 20s);
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  const auto died = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitUntil([&] { return !killsOf(collector.httpPort(), pid).empty(); }, 2s))
      << "no oom.kill for pid " << pid << " at the collector within 2 s\n"
      << agent.stderrText();
  const auto latency = std::chrono::steady_clock::now() - died;
  std::cout << "[ figures ] OOM victim death -> oom.kill queryable at the collector: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(latency).count() << " ms\n";
  // Past the cgroup source's dedupe window and its poll: still exactly one.
  EXPECT_FALSE(waitUntil([&] { return killsOf(collector.httpPort(), pid).size() > 1; }, 3s));
  const auto kill = killsOf(collector.httpPort(), pid).at(0);
  EXPECT_EQ(kill.value("host", ""), "oomhost");
  EXPECT_EQ(kill["data"].value("memcg", ""), unit.rel());
  EXPECT_EQ(kill["data"].value("task_memcg", ""), unit.rel());
  EXPECT_EQ(kill["data"].value("unit", ""), "api.service");
  EXPECT_EQ(kill["data"].value("constraint", ""), "CONSTRAINT_MEMCG");
  EXPECT_EQ(kill.value("service", ""), "api") << "[service.api] units = [\"api.service\"]";
  agent.signal(SIGTERM);
  EXPECT_TRUE(agent.wait(10s).has_value());
}

}  // namespace
}  // namespace octolaunch::testing
