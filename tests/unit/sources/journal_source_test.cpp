// The journal source against a real systemd: the systemd container (tests/containers/
// systemd-host.sh: systemd 252 as PID 1, journald) with its /var/log/journal bound to a host
// directory that the source reads through sd-journal, while units fail there for real.
#include "agent/sources/journal/journal_source.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/fake_sink.h"
#include "tests/support/io_thread.h"
#include "tests/support/process.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"
#include "tests/unit/sources/podman_fixture.h"

namespace octolaunch::sources {
namespace {

using namespace std::chrono_literals;
using testing::FakeSink;
using testing::IoThread;

// The failing units, as files in the container's /etc/systemd/system.
const std::map<std::string, std::string> kUnits = {
    {"t-exit.service",
     "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo password=hunter2 about to fail; exit "
     "3'\n"},
    // SIGTERM (like HUP, INT, PIPE) counts as a clean exit for systemd: USR1 does not.
    {"t-signal.service", "[Service]\nExecStart=/bin/sh -c 'kill -USR1 $$$$'\n"},
    {"t-core.service",
     "[Service]\nLimitCORE=infinity\nWorkingDirectory=/tmp\nExecStart=/bin/sh -c 'kill -SEGV "
     "$$$$'\n"},
    {"t-timeout.service", "[Service]\nType=oneshot\nTimeoutStartSec=1\nExecStart=/bin/sleep 30\n"},
    {"t-watchdog.service", "[Service]\nWatchdogSec=1\nExecStart=/bin/sleep 30\n"},
    {"t-spawn.service", "[Service]\nExecStart=/nonexistent/h-daemon\n"},
    {"t-loop.service",
     "[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=60\n[Service]\nRestart=always\nRestartSec="
     "200ms\nExecStart=/bin/false\n"},
    // Succeeds every time and is restarted at once: the start limit stops it (start-limit-hit).
    {"t-limit.service",
     "[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=60\n[Service]\nRestart=always\nRestartSec="
     "100ms\nExecStart=/bin/true\n"},
    {"t-oom.service",
     "[Service]\nMemoryMax=24M\nExecStart=/usr/bin/python3 -c \"a=bytearray(300*1024*1024)\"\n"},
};

class JournalSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unavailable_ = new std::string(testing::preparePodman());
    if (!unavailable_->empty()) return;
    journalDir_ =
        new std::filesystem::path("/var/tmp/octolaunch-test-journal-" + std::to_string(::getpid()));
    std::filesystem::create_directories(*journalDir_);
    name_ = new std::string("octolaunch-test-sd-" + std::to_string(::getpid()));
    const auto script = testing::containersDir() / "systemd-host.sh";
    auto r = testing::run(
        {"bash", script.string(), *name_, "-v", journalDir_->string() + ":/var/log/journal"}, 600s);
    if (r.exitCode != 0) *unavailable_ = "systemd-host.sh failed: " + r.out + r.err;
  }
  static void TearDownTestSuite() {
    if (name_ != nullptr) {
      testing::run({"podman", "rm", "-f", "-t", "0", *name_}, 120s);
      std::error_code ignored;
      std::filesystem::remove_all(*journalDir_, ignored);
    }
    delete unavailable_;
    delete name_;
    delete journalDir_;
  }
  void SetUp() override {
    if (!unavailable_->empty()) OCTOLAUNCH_SKIP_UNLESS_CI(*unavailable_);
  }
  static int exec(const std::string& script) {
    return testing::run({"podman", "exec", *name_, "sh", "-c", script}, 120s).exitCode;
  }
  static void install(const std::string& unit, const std::string& text) {
    std::string escaped;
    for (char c : text) escaped += c == '\'' ? std::string("'\\''") : std::string(1, c);
    ASSERT_EQ(exec("printf '%s' '" + escaped + "' > /etc/systemd/system/" + unit), 0);
  }
  std::unique_ptr<JournalSource> startSource(IoThread& io, EventOut& out, OomLedger& ledger) {
    JournalConfig config;
    config.directory = *journalDir_;
    auto source = std::make_unique<JournalSource>(
        io.io(), out, ledger, config, state_.path(), [](std::string& line) {
          if (auto p = line.find("hunter2"); p != std::string::npos) {
            line.replace(p, 7, "***");
          }
        });
    EXPECT_TRUE(io.run([&] { return source->start(); }));
    return source;
  }
  static std::optional<nlohmann::json> failureOf(const std::vector<nlohmann::json>& events,
                                                 const std::string& unit) {
    for (const auto& e : events) {
      if (e.value("kind", "") == "unit.failed" && e["data"].value("unit", "") == unit)
        return e["data"];
    }
    return std::nullopt;
  }

  static std::string* unavailable_;
  static std::string* name_;
  static std::filesystem::path* journalDir_;
  testing::TempDir state_;
  FakeSink sink_;
  SystemClock clock_;
};
std::string* JournalSourceTest::unavailable_ = nullptr;
std::string* JournalSourceTest::name_ = nullptr;
std::filesystem::path* JournalSourceTest::journalDir_ = nullptr;

TEST_F(JournalSourceTest, RealUnitFailuresBecomeUnitFailedWithSystemdsResult) {
  IoThread io;
  EventOut out(sink_, clock_);
  OomLedger ledger;
  auto source = startSource(io, out, ledger);
  std::string units;
  for (const auto& [unit, text] : kUnits) {
    install(unit, text);
    units += " " + unit;
  }
  ASSERT_EQ(exec("systemctl daemon-reload"), 0);
  exec("systemctl start --no-block" + units);

  const std::map<std::string, std::string> expected = {
      {"t-exit.service", "exit-code"},    {"t-signal.service", "signal"},
      {"t-core.service", "core-dump"},    {"t-timeout.service", "timeout"},
      {"t-watchdog.service", "watchdog"}, {"t-spawn.service", "exit-code"},
      {"t-loop.service", "exit-code"},    {"t-limit.service", "start-limit-hit"},
      {"t-oom.service", "signal"}};
  const bool all = sink_.waitFor(
      [&](const auto& events) {
        for (const auto& [unit, result] : expected) {
          if (!failureOf(events, unit)) return false;
        }
        return true;
      },
      30s);
  const auto events = sink_.events();
  for (const auto& [unit, result] : expected) {
    const auto failure = failureOf(events, unit);
    if (!failure) {
      ADD_FAILURE() << "no unit.failed for " << unit;
      continue;
    }
    EXPECT_EQ(failure->value("result", ""), result) << unit << ": " << failure->dump();
  }
  ASSERT_TRUE(all);
  EXPECT_EQ(failureOf(events, "t-exit.service")->value("exit_status", -1), 3);
  EXPECT_EQ(failureOf(events, "t-signal.service")->value("signal", ""), "USR1");
  EXPECT_EQ(failureOf(events, "t-core.service")->value("signal", ""), "SEGV");
  EXPECT_EQ(failureOf(events, "t-spawn.service")->value("exit_status", -1), 203);
  EXPECT_EQ(failureOf(events, "t-oom.service")->value("signal", ""), "KILL");
  EXPECT_TRUE(failureOf(events, "t-oom.service")->value("oom_killed", false))
      << "the kernel's OOM kill in t-oom.service's cgroup was not joined";
  EXPECT_FALSE(failureOf(events, "t-exit.service")->value("oom_killed", true));
  const std::string lastLines =
      failureOf(events, "t-exit.service")->value("last_lines", nlohmann::json::array()).dump();
  EXPECT_NE(lastLines.find("about to fail"), std::string::npos) << lastLines;
  EXPECT_EQ(lastLines.find("hunter2"), std::string::npos)
      << "last lines were not redacted: " << lastLines;
  // The restart loop failed more than once, each time with a higher restart counter.
  EXPECT_TRUE(sink_.waitFor(
      [&](const auto& evs) {
        std::uint32_t most = 0;
        for (const auto& e : evs) {
          if (e.value("kind", "") == "unit.failed" &&
              e["data"].value("unit", "") == "t-loop.service") {
            most = std::max(most, e["data"].value("restarts", 0u));
          }
        }
        return most >= 1;
      },
      10s));
  io.run([&] { source->stop(); });
}

TEST_F(JournalSourceTest, RestartResumesAfterTheSavedCursor) {
  OomLedger ledger;
  install("t-resume.service", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 7'\n");
  ASSERT_EQ(exec("systemctl daemon-reload"), 0);
  {
    IoThread io;
    EventOut out(sink_, clock_);
    auto source = startSource(io, out, ledger);
    exec("systemctl start t-resume.service");
    ASSERT_TRUE(sink_.waitFor(
        [&](const auto& e) { return failureOf(e, "t-resume.service").has_value(); }, 10s));
    io.run([&] { source->stop(); });
  }
  // Fails again while the source is stopped.
  exec("systemctl start t-resume.service");
  FakeSink second;
  IoThread io;
  EventOut out(second, clock_);
  auto source = startSource(io, out, ledger);
  ASSERT_TRUE(second.waitFor(
      [&](const auto& e) { return failureOf(e, "t-resume.service").has_value(); }, 10s))
      << "the failure logged while the source was stopped was not read after the restart";
  EXPECT_FALSE(second.waitFor(
      [&](const auto& e) {
        int n = 0;
        for (const auto& x : e) n += x.value("kind", "") == "unit.failed" ? 1 : 0;
        return n > 1;
      },
      1s))
      << "the failure read before the restart was read again";
  io.run([&] { source->stop(); });
}

TEST_F(JournalSourceTest, UnitsFailedBeforeAFreshStartAreReportedAtStart) {
  install("t-stays-failed.service", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 5'\n");
  install("t-recovered.service",
          "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'test -e /run/t-recovered-ok'\n");
  ASSERT_EQ(exec("systemctl daemon-reload && rm -f /run/t-recovered-ok"), 0);
  exec("systemctl start t-stays-failed.service t-recovered.service");
  ASSERT_EQ(exec("systemctl is-failed t-stays-failed.service t-recovered.service"), 0);
  ASSERT_EQ(exec("touch /run/t-recovered-ok && systemctl start t-recovered.service"), 0);
  ASSERT_EQ(exec("systemctl is-failed --quiet t-stays-failed.service"), 0);
  // journald writes asynchronously: wait until the recovery is in the journal files.
  ASSERT_TRUE(testing::waitUntil(
      [&] { return exec("journalctl --no-pager -u t-recovered.service | grep -q Finished") == 0; },
      10s, 100ms));
  IoThread io;
  EventOut out(sink_, clock_);
  OomLedger ledger;
  auto source = startSource(io, out, ledger);  // a fresh state dir: no cursor
  const auto events = sink_.events();          // published inside start()
  const auto failed = failureOf(events, "t-stays-failed.service");
  ASSERT_TRUE(failed) << "the failed unit was not reported at start";
  EXPECT_TRUE(failed->value("at_start", false));
  EXPECT_EQ(failed->value("result", ""), "exit-code");
  EXPECT_EQ(failed->value("exit_status", -1), 5);
  EXPECT_FALSE(failureOf(events, "t-recovered.service"))
      << "a unit that failed and then started successfully was reported failed";
  // Live failures after the start are not at_start.
  exec("systemctl start t-stays-failed.service");
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) {
        int n = 0;
        for (const auto& x : e)
          n += x.value("kind", "") == "unit.failed" &&
                       x["data"].value("unit", "") == "t-stays-failed.service"
                   ? 1
                   : 0;
        return n == 2;
      },
      10s));
  int live = 0;
  for (const auto& e : sink_.eventsOfKind("unit.failed")) {
    if (e["data"].value("unit", "") == "t-stays-failed.service" &&
        !e["data"].value("at_start", false))
      ++live;
  }
  EXPECT_EQ(live, 1);
  io.run([&] { source->stop(); });
}

TEST(JournalSourceOff, NoJournaldAndNoDirectoryTurnsTheSourceOff) {
  if (std::filesystem::exists("/run/systemd/journal")) GTEST_SKIP() << "this host runs journald";
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  OomLedger ledger;
  JournalSource source(io.io(), out, ledger, JournalConfig{},
                       std::filesystem::temp_directory_path());
  EXPECT_FALSE(io.run([&] { return source.start(); }));
}

}  // namespace
}  // namespace octolaunch::sources
