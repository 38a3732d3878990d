// The cgroup memory-events source: a real v1 memory cgroup created below a watched "slice" while
// the source runs, a real OOM kill in it; and the same kill seen by kmsg too must stay one event.
#include "agent/sources/cgroup/memory_events_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "agent/parse/kernel_message.h"
#include "agent/parse/oom_kill.h"
#include "agent/sources/kmsg/kmsg_source.h"
#include "tests/support/fake_sink.h"
#include "tests/support/io_thread.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"
#include "tests/unit/sources/memcg_v1.h"

namespace octolaunch::sources {
namespace {

using namespace std::chrono_literals;
using testing::FakeSink;
using testing::IoThread;
using testing::MemcgV1;

std::vector<nlohmann::json> killsIn(const std::vector<nlohmann::json>& events,
                                    const std::string& cgroup) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.value("kind", "") == "oom.kill" && e["data"].value("memcg", "") == cgroup)
      out.push_back(e);
  }
  return out;
}

std::string sliceName() {
  static std::atomic<int> counter{0};
  return "octolaunch-test-slice-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

class MemoryEventsV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::memcgV1Unavailable(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  }
  // A source watching a new slice (its own memcg) with one unit memcg of 24 MiB in it, reporting
  // after a dedupe window of 3 s (long, so that a report stamped at its end would be visibly late).
  struct Watching {
    Watching(MemoryEventsV1Test& test, const std::string& unitName)
        : slice(sliceName()),
          sliceCg(slice, 1u << 30),
          unit(slice + "/" + unitName, 24u << 20),
          out(test.sink_, test.clock_),
          source(io.io(), out, ledger, test.slowConfig(slice)) {}
    std::string slice;
    MemcgV1 sliceCg;
    MemcgV1 unit;
    IoThread io;
    EventOut out;
    OomLedger ledger;
    MemoryEventsSource source;
  };
  CgroupConfig slowConfig(const std::string& slice) {
    auto c = config(slice);
    c.dedupeWindowMs = 3000;
    return c;
  }
  CgroupConfig config(const std::string& slice) {
    CgroupConfig c;
    c.slices = {slice};
    c.dedupeWindowMs = 300;
    c.pollIntervalMs = 1000;
    return c;
  }
  FakeSink sink_;
  SystemClock clock_;
};

TEST_F(MemoryEventsV1Test, KillInAUnitCreatedWhileWatchingIsReportedFromOomControl) {
  const std::string slice = sliceName();
  MemcgV1 sliceCg(slice, 1u << 30);
  IoThread io;
  EventOut out(sink_, clock_);
  OomLedger ledger;
  MemoryEventsSource source(io.io(), out, ledger, config(slice));
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  EXPECT_EQ(source.version(), 1);

  MemcgV1 unit(slice + "/api.service", 24u << 20);
  const std::string rel = unit.rel();
  const auto watching = [&] { return io.run([&] { return source.watches(rel); }); };
  ASSERT_TRUE(testing::waitUntil(watching, 1s, 10ms)) << "the new cgroup was not picked up";

  const pid_t pid = unit.spawnHog();
  const auto status = testing::waitChild(pid, 20s);
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  ASSERT_TRUE(sink_.waitFor([&](const auto& e) { return !killsIn(e, rel).empty(); }, 2s))
      << "no oom.kill for " << rel << " within 2 s";
  EXPECT_FALSE(sink_.waitFor([&](const auto& e) { return killsIn(e, rel).size() > 1; }, 1500ms));
  const auto kill = killsIn(sink_.events(), rel).at(0)["data"];
  EXPECT_EQ(kill.value("unit", ""), "api.service");
  EXPECT_EQ(kill.value("task_memcg", ""), rel);
  EXPECT_EQ(kill.value("killer", ""), "kernel");
  EXPECT_EQ(kill.value("source", ""), "memory.oom_control");
  io.run([&] { source.stop(); });
}

TEST_F(MemoryEventsV1Test, KillSeenByKmsgAndOomControlIsOneEvent) {
  if (::access("/dev/kmsg", R_OK) != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs a readable /dev/kmsg");
  const std::string slice = sliceName();
  MemcgV1 sliceCg(slice, 1u << 30);
  MemcgV1 unit(slice + "/worker.service", 24u << 20);
  testing::TempDir state;
  IoThread io;
  EventOut out(sink_, clock_);
  OomLedger ledger;
  KmsgConfig kmsgConfig;
  kmsgConfig.recoverPreviousBoot = false;
  KmsgSource kmsg(io.io(), out, ledger, kmsgConfig, state.path());
  MemoryEventsSource cgroup(io.io(), out, ledger, config(slice));
  ASSERT_TRUE(io.run([&] { return kmsg.start() && cgroup.start(); }));
  ASSERT_TRUE(io.run([&] { return cgroup.watches(unit.rel()); }));

  const pid_t pid = unit.spawnHog();
  const auto status = testing::waitChild(pid, 20s);
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  ASSERT_TRUE(sink_.waitFor([&](const auto& e) { return !killsIn(e, unit.rel()).empty(); }, 2s));
  // Past the dedupe window and a poll: still one.
  EXPECT_FALSE(
      sink_.waitFor([&](const auto& e) { return killsIn(e, unit.rel()).size() > 1; }, 2500ms));
  const auto kill = killsIn(sink_.events(), unit.rel()).at(0)["data"];
  EXPECT_EQ(kill.value("source", ""), "kmsg");
  EXPECT_EQ(kill.value("pid", 0), pid);
  io.run([&] {
    kmsg.stop();
    cgroup.stop();
  });
}

// The counter's kill is timed when it happened, not when the dedupe wait ended, and named by the
// kernel's lines a source read without reporting them (the journal source does that with
// _TRANSPORT=kernel entries; here the test reads the same kernel lines from /dev/kmsg).
TEST_F(MemoryEventsV1Test, KillIsTimedWhenItHappenedAndNamedFromUnreportedKernelLines) {
  if (::access("/dev/kmsg", R_OK) != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs a readable /dev/kmsg");
  Watching w(*this, "batch.service");
  auto& [slice, sliceCg, unit, io, out, ledger, source] = w;
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  ASSERT_TRUE(io.run([&] { return source.watches(unit.rel()); }));
  const int kmsg = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(kmsg, 0);
  ::lseek(kmsg, 0, SEEK_END);

  const std::int64_t beforeNs = clock_.nowNs();
  const pid_t pid = unit.spawnHog();
  const auto status = testing::waitChild(pid, 20s);
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  const std::int64_t reapedNs = clock_.nowNs();
  parse::OomAssembler assembler;
  std::vector<parse::OomKill> kernelKills;
  std::string record(16384, '\0');
  for (ssize_t n; (n = ::read(kmsg, record.data(), record.size())) != 0;) {
    if (n < 0 && errno == EPIPE) continue;
    if (n < 0) break;
    if (auto m = parse::parseKmsgRecord(record.substr(0, static_cast<std::size_t>(n)))) {
      for (auto& k : assembler.feed(*m))
        if (k.pid == pid) kernelKills.push_back(k);
    }
  }
  ::close(kmsg);
  ASSERT_EQ(kernelKills.size(), 1u);
  const parse::OomKill& seen = kernelKills[0];
  io.run([&] {
    ledger.record({clock_.nowNs(), seen.pid, seen.process, seen.memcg, seen.taskMemcg, seen.unit,
                   /*reported=*/false});
    return 0;
  });

  ASSERT_TRUE(sink_.waitFor([&](const auto& e) { return !killsIn(e, unit.rel()).empty(); }, 6s));
  const auto event = killsIn(sink_.events(), unit.rel()).at(0);
  const auto kill = event["data"];
  EXPECT_EQ(kill.value("pid", 0), pid);
  EXPECT_EQ(kill.value("process", ""), seen.process);
  EXPECT_FALSE(seen.process.empty());
  EXPECT_EQ(kill.value("unit", ""), "batch.service");
  EXPECT_EQ(kill.value("task_memcg", ""), unit.rel());
  EXPECT_EQ(kill.value("source", ""), "memory.oom_control");
  // Timed by the ledger entry (made right after the kill), not at the end of the 3 s wait.
  const std::int64_t timeNs = event.value("time_ns", std::int64_t{0});
  EXPECT_GE(timeNs, beforeNs);
  EXPECT_LT(timeNs, reapedNs + 1'000'000'000)
      << "stamped " << (timeNs - reapedNs) / 1'000'000 << " ms after the kill";
  io.run([&] { source.stop(); });
}

// Without any source naming it, the kill is still timed when the counter rose (the v1 notifier
// fired), and carries the unit and the cgroup.
TEST_F(MemoryEventsV1Test, UnnamedKillIsTimedWhenTheCounterRose) {
  Watching w(*this, "cron.service");
  auto& [slice, sliceCg, unit, io, out, ledger, source] = w;
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  ASSERT_TRUE(io.run([&] { return source.watches(unit.rel()); }));
  const pid_t pid = unit.spawnHog();
  const auto status = testing::waitChild(pid, 20s);
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  const std::int64_t reapedNs = clock_.nowNs();
  ASSERT_TRUE(sink_.waitFor([&](const auto& e) { return !killsIn(e, unit.rel()).empty(); }, 6s));
  const auto event = killsIn(sink_.events(), unit.rel()).at(0);
  EXPECT_EQ(event["data"].value("unit", ""), "cron.service");
  EXPECT_EQ(event["data"].value("memcg", ""), unit.rel());
  EXPECT_EQ(event["data"].value("pid", 0), 0);
  EXPECT_LT(event.value("time_ns", std::int64_t{0}), reapedNs + 1'000'000'000);
  io.run([&] { source.stop(); });
}

// cgroup v2 memory.events: this host's memory controller is bound to v1, so no real v2
// memory.events exists here. The watcher is exercised on a directory laid out like a cgroup2
// mount (cgroup.controllers naming memory; memory.events in the kernel's format) whose files the
// test rewrites as the kernel would; inotify IN_MODIFY is what the kernel raises on memory.events.
TEST(MemoryEventsV2Layout, CounterIncreaseInAUnitBecomesAnOomKillAndNewUnitsAreWatched) {
  testing::TempDir root;
  auto write = [](const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
  };
  const std::string events0 = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";
  write(root.path() / "cgroup.controllers", "cpuset cpu io memory pids\n");
  std::filesystem::create_directories(root.path() / "system.slice" / "api.service");
  write(root.path() / "system.slice" / "api.service" / "memory.events",
        "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n");

  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  OomLedger ledger;
  CgroupConfig config;
  config.root = root.path();
  config.dedupeWindowMs = 100;
  MemoryEventsSource source(io.io(), out, ledger, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  EXPECT_EQ(source.version(), 2);
  EXPECT_TRUE(io.run([&] { return source.watches("/system.slice/api.service"); }));

  // A kill before the agent started is not reported; a new one is.
  write(root.path() / "system.slice" / "api.service" / "memory.events",
        "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n");
  ASSERT_TRUE(sink.waitFor(
      [](const auto& e) { return killsIn(e, "/system.slice/api.service").size() == 1; }, 2s));
  EXPECT_EQ(killsIn(sink.events(), "/system.slice/api.service")[0]["data"].value("source", ""),
            "memory.events");

  // A unit started later: watched from zero. (The kernel creates a cgroup directory with its files
  // at once; a directory renamed into place is that here.)
  std::filesystem::create_directories(root.path() / "system.slice" / ".new");
  write(root.path() / "system.slice" / ".new" / "memory.events", events0);
  std::filesystem::rename(root.path() / "system.slice" / ".new",
                          root.path() / "system.slice" / "db.service");
  const auto watchingDb = [&] {
    return io.run([&] { return source.watches("/system.slice/db.service"); });
  };
  ASSERT_TRUE(testing::waitUntil(watchingDb, 2s, 10ms));
  write(root.path() / "system.slice" / "db.service" / "memory.events",
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
  ASSERT_TRUE(sink.waitFor(
      [](const auto& e) { return killsIn(e, "/system.slice/db.service").size() == 1; }, 2s));
  EXPECT_EQ(killsIn(sink.events(), "/system.slice/db.service")[0]["data"].value("unit", ""),
            "db.service");

  // A kill kmsg already reported (recorded in the ledger) is not reported again.
  io.run([&] {
    ledger.record({clock.nowNs(), 4242, "api", "/system.slice/api.service",
                   "/system.slice/api.service", "api.service"});
    return 0;
  });
  write(root.path() / "system.slice" / "api.service" / "memory.events",
        "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\noom_group_kill 0\n");
  EXPECT_FALSE(sink.waitFor(
      [](const auto& e) { return killsIn(e, "/system.slice/api.service").size() > 1; }, 1s));
  io.run([&] { source.stop(); });
}

TEST(MemoryEventsOff, NoMemoryControllerTurnsTheSourceOff) {
  testing::TempDir root;
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  OomLedger ledger;
  CgroupConfig config;
  config.root = root.path();
  MemoryEventsSource source(io.io(), out, ledger, config);
  EXPECT_FALSE(io.run([&] { return source.start(); }));
}

}  // namespace
}  // namespace octolaunch::sources
