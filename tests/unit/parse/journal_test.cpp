// Journal entries and UnitFailureAssembler on a real systemd 252 journal
// (tests/fixtures/SOURCES.md).
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <map>

#include "agent/parse/earlyoom.h"
#include "agent/parse/failed_units.h"
#include "agent/parse/journal_entry.h"
#include "agent/parse/text_util.h"
#include "agent/parse/unit_failure.h"
#include "tests/unit/parse/fixture.h"

namespace octolaunch::parse {
namespace {

struct JournalRun {
  std::vector<UnitFailure> failures;
  std::vector<OomKill> kills;
  std::size_t skipped = 0;
};

JournalRun runJournal(const std::string& file) {
  JournalRun run;
  UnitFailureAssembler assembler;
  std::string text = test::fixture(file);
  auto take = [&](UnitFailureAssembler::Output out) {
    for (auto& f : out.failures) run.failures.push_back(std::move(f));
    for (auto& k : out.oomKills) run.kills.push_back(std::move(k));
  };
  for (auto line : splitLines(text)) {
    auto entry = parseJournalJson(line);
    if (!entry) {
      ++run.skipped;
      continue;
    }
    take(assembler.feed(*entry));
  }
  take(assembler.finish());
  return run;
}

// All failures of one unit, in the order they were completed.
std::vector<UnitFailure> of(const JournalRun& run, const std::string& unit) {
  std::vector<UnitFailure> out;
  for (const auto& f : run.failures) {
    if (f.unit == unit) out.push_back(f);
  }
  return out;
}

class Systemd252Journal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_ = new JournalRun(runJournal("journal/systemd-252-unit-failures.json"));
  }
  static void TearDownTestSuite() { delete run_; }
  static JournalRun* run_;
};
JournalRun* Systemd252Journal::run_ = nullptr;

TEST_F(Systemd252Journal, EveryLineIsAnEntry) { EXPECT_EQ(run_->skipped, 0u); }

TEST_F(Systemd252Journal, ExitCode) {
  auto f = of(*run_, "ol-exit.service");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].result, "exit-code");
  EXPECT_EQ(f[0].exitStatus, 3);
  EXPECT_EQ(f[0].signal, "");
  EXPECT_EQ(f[0].restarts, 0u);
  EXPECT_EQ(f[0].invocationId.substr(0, 8), "e51c54df");
  EXPECT_EQ(f[0].invocationId.size(), 32u);
  EXPECT_EQ(f[0].lastLines,
            (std::vector<std::string>{"api v2.4.1 starting on :8080",
                                      "error: config /etc/api/api.toml: no such file"}));
  EXPECT_FALSE(f[0].oomKilled);
  EXPECT_EQ(f[0].host, "olparse");
}

TEST_F(Systemd252Journal, SignalKill) {
  auto f = of(*run_, "ol-signal.service");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].exitStatus, 2);  // the first unit file mis-escaped $$ (see SOURCES.md)
  EXPECT_EQ(f[1].result, "signal");
  EXPECT_EQ(f[1].signal, "KILL");
  EXPECT_EQ(f[1].exitStatus, -1);
  EXPECT_FALSE(f[1].oomKilled);  // SIGKILL alone is not an OOM kill
  EXPECT_EQ(f[1].lastLines, (std::vector<std::string>{"worker ready"}));
}

TEST_F(Systemd252Journal, CoreDump) {
  auto f = of(*run_, "ol-core.service");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2].result, "core-dump");
  EXPECT_EQ(f[2].signal, "SEGV");
  EXPECT_EQ(f[2].lastLines, (std::vector<std::string>{"parsing request"}));
  EXPECT_NE(f[2].invocationId, f[1].invocationId);
}

TEST_F(Systemd252Journal, StartTimeout) {
  auto f = of(*run_, "ol-timeout.service");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].result, "timeout");
  EXPECT_EQ(f[0].message, "start operation timed out. Terminating.");
  EXPECT_EQ(f[0].lastLines, (std::vector<std::string>{"warming cache"}));
}

TEST_F(Systemd252Journal, Watchdog) {
  auto f = of(*run_, "ol-watchdog.service");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].result, "watchdog");
  EXPECT_EQ(f[0].signal, "ABRT");
  EXPECT_EQ(f[0].message, "Watchdog timeout (limit 1s)!");
}

TEST_F(Systemd252Journal, SpawnFailure) {
  auto f = of(*run_, "ol-spawn.service");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].result, "exit-code");
  EXPECT_EQ(f[0].exitStatus, 203);
  EXPECT_EQ(f[0].message,
            "Failed to locate executable /usr/local/bin/ol-daemon: No such file or directory");
}

TEST_F(Systemd252Journal, RestartLoopEndsAtTheStartLimit) {
  auto f = of(*run_, "ol-loop.service");
  ASSERT_EQ(f.size(), 5u);  // five runs: the sixth start was refused
  for (std::size_t i = 0; i < f.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(f[i].result, "exit-code");  // systemd 252 keeps exit-code when the last run failed
    EXPECT_EQ(f[i].exitStatus, 1);
    EXPECT_EQ(f[i].restarts, i + 1);  // "Scheduled restart job, restart counter is at N"
    EXPECT_EQ(f[i].lastLines,
              (std::vector<std::string>{"connecting to db:5432", "fatal: connection refused"}));
  }
  EXPECT_EQ(f[4].message, "Start request repeated too quickly.");
}

TEST_F(Systemd252Journal, StartLimitHit) {
  auto f = of(*run_, "ol-startlimit.service");
  ASSERT_EQ(f.size(), 1u);  // the successful runs are not failures
  EXPECT_EQ(f[0].result, "start-limit-hit");
  EXPECT_EQ(f[0].restarts, 3u);
  EXPECT_EQ(f[0].exitStatus, -1);
  EXPECT_EQ(f[0].message, "Start request repeated too quickly.");
}

TEST_F(Systemd252Journal, MemoryMaxOomIsSignalKillJoinedWithTheKernelLines) {
  auto f = of(*run_, "ol-oom.service");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].result, "signal");  // cgroup v1: systemd records only 9/KILL
  EXPECT_EQ(f[0].signal, "KILL");
  EXPECT_TRUE(f[0].oomKilled);  // from the kernel's lines in the same journal
  EXPECT_EQ(f[0].lastLines, (std::vector<std::string>{"loading model"}));
  ASSERT_EQ(run_->kills.size(), 1u);
  const OomKill& k = run_->kills[0];
  EXPECT_EQ(k.pid, 21720);  // host pid
  EXPECT_EQ(k.process, "python3");
  EXPECT_EQ(k.unit, "ol-oom.service");
  EXPECT_EQ(k.source, "journal");
  EXPECT_EQ(k.killer, "kernel");
  EXPECT_EQ(k.containerId, "2dee27b04f6dc438d323e71f213231f8a09f77684475bc23624286849c355407");
}

TEST_F(Systemd252Journal, HealthyUnitIsNoFailure) {
  EXPECT_TRUE(of(*run_, "ol-fine.service").empty());
}

TEST_F(Systemd252Journal, FillsTheCapnpPayload) {
  auto f = of(*run_, "ol-exit.service");
  ASSERT_EQ(f.size(), 1u);
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::UnitFailed>();
  fillUnitFailed(b, f[0]);
  auto r = b.asReader();
  EXPECT_EQ(std::string(r.getUnit().cStr()), "ol-exit.service");
  EXPECT_EQ(std::string(r.getResult().cStr()), "exit-code");
  EXPECT_EQ(r.getExitStatus(), 3);
  ASSERT_EQ(r.getLastLines().size(), 2u);
  EXPECT_EQ(std::string(r.getLastLines()[1].cStr()),
            "error: config /etc/api/api.toml: no such file");
}

TEST(JournalKernelOnly, KernelKillsCanBeLeftToTheKmsgSourceButStillMarkTheUnit) {
  UnitFailureAssembler::Options options;
  options.kernelOomKills = false;
  UnitFailureAssembler assembler(options);
  std::vector<UnitFailure> failures;
  std::size_t kills = 0;
  std::string text = test::fixture("journal/systemd-252-unit-failures.json");
  for (auto line : splitLines(text)) {
    auto e = parseJournalJson(line);
    ASSERT_TRUE(e);
    auto out = assembler.feed(*e);
    kills += out.oomKills.size();
    for (auto& f : out.failures) failures.push_back(std::move(f));
  }
  auto out = assembler.finish();
  kills += out.oomKills.size();
  for (auto& f : out.failures) failures.push_back(std::move(f));
  EXPECT_EQ(kills, 0u);
  bool found = false;
  for (const auto& f : failures) {
    if (f.unit == "ol-oom.service") {
      found = true;
      EXPECT_TRUE(f.oomKilled);
    }
  }
  EXPECT_TRUE(found);
}

TEST(JournalKernelOnly, KernelEntriesAloneGiveTheOomKill) {
  JournalRun run = runJournal("journal/systemd-252-kernel-oom.json");
  EXPECT_EQ(run.skipped, 0u);
  EXPECT_TRUE(run.failures.empty());
  ASSERT_EQ(run.kills.size(), 1u);
  EXPECT_EQ(run.kills[0].pid, 21720);
  EXPECT_TRUE(run.kills[0].realtimeNs.has_value());
}

TEST(JournalEntry, ValueShapes) {
  // Byte arrays (non-UTF-8 values), numbers, repeated fields, null.
  auto e = parseJournalJson(
      R"({"MESSAGE":[104,105,255],"PRIORITY":6,"X":["a","b"],"Y":null,"__REALTIME_TIMESTAMP":"1795847447000000"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->value("MESSAGE"), std::string_view("hi\xff", 3));
  EXPECT_EQ(e->value("PRIORITY"), "6");
  EXPECT_EQ(e->value("X"), "a");
  EXPECT_FALSE(e->get("Y"));
  EXPECT_EQ(e->realtimeUsec(), 1795847447000000);
  std::string error;
  EXPECT_FALSE(parseJournalJson("[1,2]", &error));
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(parseJournalJson("{\"MESSAGE\":", &error));
  EXPECT_FALSE(parseJournalJson(std::string(100000, '['), &error));
}

TEST(UnitFailureAssembler, FedFromFieldMapsLikeSdJournal) {
  // The live source hands over sd-journal fields; the entries here are those of ol-exit's failure
  // in the captured journal.
  std::string text = test::fixture("journal/systemd-252-unit-failures.json");
  UnitFailureAssembler assembler;
  std::vector<UnitFailure> failures;
  for (auto line : splitLines(text)) {
    auto parsed = parseJournalJson(line);
    ASSERT_TRUE(parsed);
    if (parsed->value("UNIT") != "ol-exit.service" &&
        parsed->value("_SYSTEMD_UNIT") != "ol-exit.service")
      continue;
    JournalEntry entry;
    for (const auto& [k, v] : parsed->fields) entry.fields.emplace(k, v);
    for (auto& f : assembler.feed(entry).failures) failures.push_back(std::move(f));
  }
  for (auto& f : assembler.finish().failures) failures.push_back(std::move(f));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].exitStatus, 3);
}

TEST(UnitFailureAssembler, HoldEndsByJournalTimeAndExpire) {
  std::string text = test::fixture("journal/systemd-252-unit-failures.json");
  UnitFailureAssembler assembler;
  std::int64_t resultAt = 0;
  for (auto line : splitLines(text)) {
    auto e = parseJournalJson(line);
    ASSERT_TRUE(e);
    if (e->value("UNIT") != "ol-watchdog.service") continue;
    EXPECT_TRUE(assembler.feed(*e).failures.empty());  // held, not yet emitted
    if (e->value("MESSAGE_ID") == "d9b373ed55a64feb8242e02dbe79a49c") resultAt = e->realtimeUsec();
  }
  ASSERT_GT(resultAt, 0);
  EXPECT_TRUE(assembler.expire(resultAt + 500'000).failures.empty());
  auto out = assembler.expire(resultAt + 1'500'000);
  ASSERT_EQ(out.failures.size(), 1u);
  EXPECT_EQ(out.failures[0].result, "watchdog");
}

// Older systemd wording, from public journal excerpts; MESSAGE text verbatim, UNIT taken from it.
JournalEntry systemdLine(const std::string& unit, const std::string& message, std::int64_t usec) {
  JournalEntry e;
  e.fields["UNIT"] = unit;
  e.fields["MESSAGE"] = message;
  e.fields["_PID"] = "1";
  e.fields["__REALTIME_TIMESTAMP"] = std::to_string(usec);
  return e;
}

TEST(UnitFailureAssembler, OlderSystemdWithoutResultLineOrInvocationId) {
  // https://github.com/systemd/systemd/issues/13574 (systemd of that era: no INVOCATION_ID, no
  // "Failed with result", "holdoff time over").
  UnitFailureAssembler assembler;
  std::vector<UnitFailure> failures;
  auto take = [&](UnitFailureAssembler::Output o) {
    for (auto& f : o.failures) failures.push_back(std::move(f));
  };
  take(assembler.feed(systemdLine(
      "iot.service", "iot.service: main process exited, code=dumped, status=11/SEGV", 1000)));
  take(assembler.feed(systemdLine("iot.service", "Unit iot.service entered failed state.", 1000)));
  take(assembler.feed(
      systemdLine("iot.service", "iot.service holdoff time over, scheduling restart.", 1000)));
  take(assembler.feed(systemdLine("iot.service", "Starting EC_iot service test...", 1000)));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].result, "core-dump");
  EXPECT_EQ(failures[0].signal, "SEGV");
  EXPECT_EQ(failures[0].restarts, 1u);
  EXPECT_EQ(failures[0].invocationId, "");
}

TEST(UnitFailureAssembler, OomdKillAndOldStartLimitWord) {
  UnitFailureAssembler assembler;
  std::vector<UnitFailure> failures;
  std::vector<OomKill> kills;
  auto take = [&](UnitFailureAssembler::Output o) {
    for (auto& f : o.failures) failures.push_back(std::move(f));
    for (auto& k : o.oomKills) kills.push_back(std::move(k));
  };
  // systemd's wording for an oomd kill (src/core/unit.c, v248+) and the pre-v243 word start-limit.
  take(assembler.feed(systemdLine(
      "build.scope", "build.scope: systemd-oomd killed 291 process(es) in this unit.", 10)));
  take(assembler.feed(
      systemdLine("build.scope", "build.scope: Failed with result 'oom-kill'.", 20)));
  take(assembler.feed(
      systemdLine("old.service", "old.service: Failed with result 'start-limit'.", 30)));
  take(assembler.finish());
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].killer, "systemd-oomd");
  EXPECT_EQ(kills[0].unit, "build.scope");
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].result, "oom-kill");
  EXPECT_TRUE(failures[0].oomKilled);
  EXPECT_EQ(failures[1].result, "start-limit-hit");
  EXPECT_EQ(normaliseUnitResult("start-limit"), "start-limit-hit");
}

// earlyoom's own reports, as its users posted them (one per version), message part only.
TEST(Earlyoom, KillLinesOfEveryVersionAndNothingElse) {
  std::vector<OomKill> kills;
  std::size_t lines = 0;
  const std::string text = test::fixture("journal/public-earlyoom-lines.txt");
  for (auto line : splitLines(text)) {
    ++lines;
    std::string_view message = line;
    if (auto colon = message.find(": ");
        colon != std::string_view::npos && colon < 50 &&
        message.substr(0, colon).find('"') == std::string_view::npos) {
      message.remove_prefix(colon +
                            2);  // "Feb 16 13:58:29 host earlyoom[1233]: " or "Jun 12 06:39:16: "
    }
    if (auto k = parseEarlyoomKill(message)) kills.push_back(*k);
  }
  EXPECT_EQ(lines, 12u);
  ASSERT_EQ(kills.size(), 5u);
  EXPECT_EQ(kills[0].pid, 27541);
  EXPECT_EQ(kills[0].process, "bash");
  EXPECT_EQ(kills[0].anonRssKb, 7609u * 1024);
  EXPECT_EQ(kills[1].pid, 12006);
  EXPECT_EQ(kills[1].uid, -1);
  EXPECT_EQ(kills[2].process, "cluster");
  EXPECT_EQ(kills[2].uid, 1000);
  EXPECT_EQ(kills[3].process, "ipfs");
  EXPECT_EQ(kills[4].pid, 906175);
  EXPECT_EQ(kills[4].process, "java");
  EXPECT_EQ(kills[4].anonRssKb, 43912u * 1024);
  for (const auto& k : kills) {
    EXPECT_EQ(k.killer, "earlyoom");
    EXPECT_TRUE(k.victimSeen);
  }
}

// A real earlyoom 1.7 kill in systemd 252's journal: one oom.kill, killer earlyoom, and the
// start-up banner ("sending SIGTERM when mem <= ...") is not one.
TEST(Earlyoom, RealKillInTheJournal) {
  JournalRun run = runJournal("journal/systemd-252-earlyoom-1.7-kill.json");
  EXPECT_EQ(run.skipped, 0u);
  ASSERT_EQ(run.kills.size(), 1u);
  const OomKill& k = run.kills[0];
  EXPECT_EQ(k.killer, "earlyoom");
  EXPECT_EQ(k.source, "journal");
  EXPECT_EQ(k.pid, 365);
  EXPECT_EQ(k.uid, 0);
  EXPECT_EQ(k.process, "python3");
  EXPECT_EQ(k.anonRssKb, 1032u * 1024);
  ASSERT_TRUE(k.realtimeNs.has_value());
  EXPECT_GT(*k.realtimeNs, 1'700'000'000'000'000'000);
  EXPECT_TRUE(run.failures.empty());  // systemd took SIGTERM as a clean stop
}

}  // namespace
}  // namespace octolaunch::parse

namespace octolaunch::parse {
namespace {

// The units left failed at the end of the captured boot, from every entry and from systemd's own
// (PID 1) entries only, as the live source reads them at start.
TEST(FailedUnits, TheBootsUnitsStillFailedAtItsEnd) {
  for (bool pid1Only : {false, true}) {
    FailedUnits failed;
    const std::string text = test::fixture("journal/systemd-252-unit-failures.json");
    for (auto line : splitLines(text)) {
      auto entry = parseJournalJson(line);
      if (entry && (!pid1Only || entry->value("_PID") == "1")) failed.feed(*entry);
    }
    std::map<std::string, std::string> results;
    for (const auto& f : failed.finish()) {
      EXPECT_TRUE(f.atStart);
      results[f.unit] = f.result;
    }
    const std::map<std::string, std::string> expected = {
        {"ol-core.service", "core-dump"},
        {"ol-exit.service", "exit-code"},
        {"ol-loop.service", "exit-code"},
        {"ol-oom.service", "signal"},
        {"ol-signal.service", "signal"},
        {"ol-spawn.service", "exit-code"},
        {"ol-startlimit.service", "start-limit-hit"},
        {"ol-timeout.service", "timeout"},
        {"ol-watchdog.service", "watchdog"}};
    EXPECT_EQ(results, expected) << (pid1Only ? "PID 1 entries" : "all entries");
  }
}

}  // namespace
}  // namespace octolaunch::parse
