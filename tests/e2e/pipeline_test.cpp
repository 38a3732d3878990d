// The pipeline end to end: a real agent (hook wrapper + shipping daemon) and a real collector on
// loopback. What a user relies on: output passes through unchanged, the exit status is the
// command's, and every line reaches the collector's store exactly once — through collector
// crashes, a collector that is away, and an agent reinstall.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tests/support/harness.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

std::string lineScript(int lines, int exitCode) {
  // awk prints fast and deterministically; the same script is run bare and under the wrapper.
  return "awk 'BEGIN { for (i = 1; i <= " + std::to_string(lines) +
         "; i++) { printf \"line %d of the migration output\\n\", i; if (i % 1000 == 0) "
         "printf \"warn %d\\n\", i > \"/dev/stderr\" } }'; exit " +
         std::to_string(exitCode);
}

struct Fleet {
  TempDir dir;
  CollectorProcess collector{{.dataDir = dir / "collector"}};
  std::unique_ptr<Process> agent;

  // Host sources off: these tests count exactly the events their hooks produce.
  std::vector<std::string> flags(const std::string& id = "agent-1") {
    std::filesystem::path config = dir / "agent.toml";
    if (!std::filesystem::exists(config)) std::ofstream(config) << "[sources]\nenabled = false\n";
    auto f = agentFlags(dir / "spool", id, "web1", collector.rpcAddress());
    f[1] = config.string();  // --config
    return f;
  }
  void startAgent() {
    std::vector<std::string> argv = {binPath("octolaunch-agent"), "run"};
    auto f = flags();
    argv.insert(argv.end(), f.begin(), f.end());
    agent = std::make_unique<Process>(ProcessOptions{.argv = argv, .captureStdout = false});
  }
  RunResult hook(const std::string& release, const std::string& script,
                 std::chrono::milliseconds timeout = 120s) {
    std::vector<std::string> argv = {binPath("octolaunch-agent"), "hook"};
    auto f = flags();
    argv.insert(argv.end(), f.begin(), f.end());
    for (std::string a : {"--release", release.c_str(), "--service", "api", "--phase", "migrate",
                          "--", "sh", "-c", script.c_str()})
      argv.push_back(a);
    return run(argv, timeout);
  }
  std::size_t count(const std::string& query) {
    return allEvents(collector.httpPort(), query).size();
  }
};

TEST(Pipeline, HookOutputAndExitReachTheStoreAndPassThroughUnchanged) {
  Fleet fleet;
  fleet.collector.start();
  fleet.startAgent();

  RunResult bare = run({"sh", "-c", lineScript(10000, 3)}, 60s);
  RunResult wrapped = fleet.hook("r42", lineScript(10000, 3));
  EXPECT_EQ(wrapped.exitCode, 3);
  EXPECT_EQ(bare.exitCode, 3);
  EXPECT_EQ(wrapped.out, bare.out);                          // byte-identical stdout
  EXPECT_NE(wrapped.err.find(bare.err), std::string::npos);  // stderr passes through too

  ASSERT_TRUE(waitUntil([&] { return fleet.count("release=r42&kind=hook.output") == 10010; }, 30s))
      << "stored: " << fleet.count("release=r42&kind=hook.output");
  auto exits = allEvents(fleet.collector.httpPort(), "release=r42&kind=hook.exit");
  ASSERT_TRUE(waitUntil([&] { return fleet.count("release=r42&kind=hook.exit") == 1; }, 10s));
  exits = allEvents(fleet.collector.httpPort(), "release=r42&kind=hook.exit");
  EXPECT_EQ(exits[0]["data"]["exit_code"], 3);
  EXPECT_EQ(exits[0]["host"], "web1");
  EXPECT_EQ(exits[0]["service"], "api");
  EXPECT_EQ(exits[0]["data"]["phase"], "migrate");

  auto lines = allEvents(fleet.collector.httpPort(), "release=r42&kind=hook.output&host=web1");
  ASSERT_EQ(lines.size(), 10010u);
  std::size_t stdoutLines = 0;
  for (const auto& e : lines) {
    if (e["data"]["stream"] == "stdout") {
      ++stdoutLines;
      EXPECT_EQ(e["data"]["line"], "line " + std::to_string(e["data"]["line_no"].get<int>()) +
                                       " of the migration output");
    }
  }
  EXPECT_EQ(stdoutLines, 10000u);
}

TEST(Pipeline, NothingIsLostWhenTheCollectorIsKilledRepeatedly) {
  Fleet fleet;
  fleet.collector.start();
  fleet.startAgent();
  constexpr int kLines = 200000;
  // The hook runs in the background while the collector is killed and restarted.
  std::vector<std::string> argv = {binPath("octolaunch-agent"), "hook"};
  auto f = fleet.flags();
  argv.insert(argv.end(), f.begin(), f.end());
  std::string script =
      "awk 'BEGIN { for (i = 1; i <= " + std::to_string(kLines) +
      "; i++) { printf \"row %d\\n\", i; if (i % 20000 == 0) system(\"sleep 0.2\") } }'";
  for (std::string a : {"--release", "r7", "--service", "api", "--", "sh", "-c", script.c_str()})
    argv.push_back(a);
  Process hook({.argv = argv, .captureStdout = false, .discardStdout = true});

  for (int kill = 0; kill < 3; ++kill) {
    // Kill once some new events have been stored since the last start.
    std::size_t before = 0;
    auto stored = [&] {
      auto r = httpGet(fleet.collector.httpPort(), "/api/v1/hosts");
      if (r.status != 200 || r.body["hosts"].empty()) return std::size_t{0};
      return r.body["hosts"][0]["events_stored"].get<std::size_t>();
    };
    before = stored();
    waitUntil([&] { return stored() > before + 1000; }, 30s);
    fleet.collector.kill9();
    fleet.collector.start();
  }
  auto st = hook.wait(180s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(exitCodeOf(*st), 0);

  ASSERT_TRUE(waitUntil([&] { return fleet.count("release=r7&kind=hook.exit") == 1; }, 60s));
  auto lines = allEvents(fleet.collector.httpPort(), "release=r7&kind=hook.output");
  std::set<std::string> distinct;
  for (const auto& e : lines) distinct.insert(e["data"]["line"].get<std::string>());
  EXPECT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kLines));
  auto hosts = httpGet(fleet.collector.httpPort(), "/api/v1/hosts");
  ASSERT_EQ(hosts.body["hosts"].size(), 1u);
  // kLines outputs + 1 exit, no duplicates. The lines travelled in blocks (one seq each, up to
  // 4,096 lines), so the agent's records are far fewer than the lines.
  EXPECT_EQ(hosts.body["hosts"][0]["events_stored"], kLines + 1);
  EXPECT_GE(hosts.body["hosts"][0]["last_seq"].get<int>(), 2);
  EXPECT_LT(hosts.body["hosts"][0]["last_seq"].get<int>(), kLines / 100);
}

TEST(Pipeline, EverythingArrivesWhenTheCollectorStartsAfterTheHookRan) {
  Fleet fleet;
  // Reserve ports by starting once, then stop: the agent is pointed at an address nobody serves.
  fleet.collector.start();
  EXPECT_EQ(fleet.collector.stop(), 0);
  fleet.startAgent();
  RunResult r = fleet.hook("r8", lineScript(5000, 0));
  EXPECT_EQ(r.exitCode, 0);
  fleet.collector.start();
  ASSERT_TRUE(waitUntil([&] { return fleet.count("release=r8&kind=hook.output") == 5005; }, 30s))
      << "stored: " << fleet.count("release=r8&kind=hook.output");
  EXPECT_TRUE(waitUntil([&] { return fleet.count("release=r8&kind=hook.exit") == 1; }, 10s));
}

TEST(Pipeline, AReinstalledAgentStartsANewEpochAndIsNotDeduplicated) {
  Fleet fleet;
  fleet.collector.start();
  fleet.startAgent();
  EXPECT_EQ(fleet.hook("r1", lineScript(100, 0)).exitCode, 0);
  ASSERT_TRUE(waitUntil([&] { return fleet.count("release=r1") == 101; }, 30s));
  auto first = httpGet(fleet.collector.httpPort(), "/api/v1/hosts").body["hosts"][0];

  // Reinstall: stop the daemon, delete the spool, start again. Seq restarts from 1.
  fleet.agent->kill9();
  std::filesystem::remove_all(fleet.dir / "spool");
  fleet.startAgent();
  EXPECT_EQ(fleet.hook("r2", lineScript(50, 0)).exitCode, 0);
  ASSERT_TRUE(waitUntil([&] { return fleet.count("release=r2") == 51; }, 30s))
      << "stored for r2: " << fleet.count("release=r2");
  auto second = httpGet(fleet.collector.httpPort(), "/api/v1/hosts").body["hosts"][0];
  EXPECT_NE(second["epoch"], first["epoch"]);
  // The new spool's records from seq 1: the 50 lines in blocks, then the exit.
  EXPECT_GE(second["last_seq"].get<int>(), 2);
  EXPECT_LE(second["last_seq"].get<int>(), 51);
  EXPECT_EQ(second["events_stored"], 51);
  EXPECT_EQ(fleet.count("release=r1"), 101u);
}

TEST(Pipeline, ExitStatusesFollowTheCommand) {
  Fleet fleet;
  fleet.collector.start();
  std::vector<std::string> base = {binPath("octolaunch-agent"), "hook"};
  auto f = fleet.flags();
  base.insert(base.end(), f.begin(), f.end());
  auto hookArgs = [&](std::vector<std::string> cmd) {
    auto argv = base;
    argv.push_back("--");
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return argv;
  };
  EXPECT_EQ(run(hookArgs({"/nonexistent/command"}), 10s).exitCode, 127);
  std::filesystem::path notExecutable = fleet.dir / "notes.txt";
  std::ofstream(notExecutable) << "not a program\n";
  std::filesystem::permissions(
      notExecutable, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(run(hookArgs({notExecutable.string()}), 10s).exitCode, 126);
  EXPECT_EQ(run(hookArgs({"sh", "-c", "kill -TERM $$"}), 10s).exitCode, 128 + 15);
  RunResult usage = run(base, 10s);
  EXPECT_EQ(usage.exitCode, 2);
  // No spool can be opened: the command still runs and its status is returned.
  std::vector<std::string> broken = {
      binPath("octolaunch-agent"),     "hook", "--config", "/dev/null", "--spool-dir",
      "/proc/octolaunch-cannot-exist", "--",   "sh",       "-c",        "echo still here; exit 4"};
  RunResult r = run(broken, 10s);
  EXPECT_EQ(r.exitCode, 4);
  EXPECT_EQ(r.out, "still here\n");
}

}  // namespace
}  // namespace octolaunch::testing
