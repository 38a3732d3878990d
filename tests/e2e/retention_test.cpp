// Retention in the real collector, with a real agent ingesting while the passes run: the old
// routine events go, a failed release's evidence and everything recent stay, GET /metrics shows
// the store's space and its oldest event, and afterwards `check` finds the indexes in agreement
// with the events.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "collector/analysis/release_analysis.h"
#include "collector/releases/release_service.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_env.h"
#include "shared/util/clock.h"
#include "tests/support/event_batches.h"
#include "tests/support/harness.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_parser.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace octolaunch {
namespace {

using namespace std::chrono_literals;
using testing::BatchMessage;
using testing::EventSpec;

constexpr std::int64_t kDay = 86'400LL * 1'000'000'000;
constexpr std::uint64_t kOldEvents = 20000;  // routine, 40 days old
constexpr int kNewLines = 30000;             // recorded while the passes run

class RetentionE2eTest : public ::testing::Test {
 protected:
  // The store before the collector starts: 40 days ago, a failed release on web-1 (deploy start,
  // a failed hook, an OOM kill in its window) and kOldEvents routine events on web-2.
  void fill() {
    lmdb::Env env = openCollectorEnv(dir_.path() / "collector", std::size_t{1} << 30);
    SystemClock clock;
    LmdbEventStore events(env, clock);
    LmdbReleaseStore releases(env);
    InlineWriteSerializer writer;
    analysis::AnalysisOptions options;
    releases::ReleaseService service(events, releases, writer, clock, options);
    ASSERT_TRUE(service.registerRelease({{"id", "r-failed"}, {"service", "api"}}).ok());
    old_ = clock.nowNs() - 40 * kDay;
    auto commit = [&](const std::string& agent, const std::string& host,
                      const std::vector<EventSpec>& specs) {
      BatchMessage m(agent, 1, specs, host);
      IngestBatch b = m.batch();
      ASSERT_EQ(events.commitBatches({&b, 1}).at(0).stored, specs.size());
    };
    ASSERT_NO_FATAL_FAILURE(commit(
        "agent-failed", "web-1",
        {{.seq = 1, .timeNs = old_, .host = "web-1", .release = "r-failed", .kind = "deploy.start"},
         {.seq = 2,
          .timeNs = old_ + 1000,
          .host = "web-1",
          .release = "r-failed",
          .kind = "hook.exit"},
         {.seq = 3, .timeNs = old_ + 2000, .host = "web-1", .kind = "oom.kill"}}));
    for (std::uint64_t first = 1; first <= kOldEvents; first += 1000) {
      std::vector<EventSpec> specs;
      for (std::uint64_t seq = first; seq < first + 1000; ++seq) {
        specs.push_back({.seq = seq,
                         .timeNs = old_ + static_cast<std::int64_t>(seq) * 1'000'000,
                         .host = "web-2",
                         .release = "r-old",
                         .kind = seq % 50 == 0 ? "hook.block" : "hook.output",
                         .line = "routine line " + std::to_string(seq),
                         .blockLines = 40});
      }
      ASSERT_NO_FATAL_FAILURE(commit("agent-old", "web-2", specs));
    }
  }

  std::vector<std::string> agentArgs(const std::string& command) {
    std::vector<std::string> argv = {testing::binPath("octolaunch-agent"), command};
    auto flags = testing::agentFlags(dir_.path() / "agent" / "spool", "agent-new", "web-3",
                                     collector_.rpcAddress());
    flags[1] = (dir_.path() / "agent.toml").string();
    argv.insert(argv.end(), flags.begin(), flags.end());
    return argv;
  }

  testing::ParsedMetrics metrics() {
    return testing::parsePrometheusText(testing::httpGet(collector_.httpPort(), "/metrics").raw);
  }

  testing::TempDir dir_;
  std::int64_t old_ = 0;
  testing::CollectorProcess collector_{
      {.dataDir = dir_.path() / "collector", .config = (dir_.path() / "collector.toml").string()}};
};

TEST_F(RetentionE2eTest, OldRoutineEventsGoWhileAnAgentIngestsAndTheEvidenceAndNewEventsStay) {
  ASSERT_NO_FATAL_FAILURE(fill());
  std::ofstream(dir_.path() / "collector.toml")
      << "[retention]\ninterval_seconds = 1\nbatch_events = 100\n";
  std::ofstream(dir_.path() / "agent.toml") << "[sources]\nenabled = false\n";
  std::filesystem::create_directories(dir_.path() / "agent");
  collector_.start();
  testing::Process agent({.argv = agentArgs("run"), .captureStdout = false});
  const std::string script = "i=0; while [ $i -lt " + std::to_string(kNewLines) +
                             " ]; do i=$((i+1)); echo new line $i; done";
  std::vector<std::string> hook = agentArgs("hook");
  for (std::string a : {"--release", "r-new", "--service", "api", "--", "sh", "-c", script.c_str()})
    hook.push_back(a);
  ASSERT_EQ(testing::run(hook, 120s).exitCode, 0);

  ASSERT_TRUE(testing::waitUntil(
      [&]() {
        return metrics().value("octolaunch_retention_deleted_by_age_total") ==
               static_cast<double>(kOldEvents);
      },
      120s))
      << testing::httpGet(collector_.httpPort(), "/metrics").raw;
  ASSERT_TRUE(testing::waitUntil(
      [&]() {
        return testing::allEvents(collector_.httpPort(), "release=r-new&kind=hook.output").size() ==
               static_cast<std::size_t>(kNewLines);
      },
      120s))
      << "every line the agent recorded is stored";

  EXPECT_TRUE(testing::allEvents(collector_.httpPort(), "release=r-old").empty());
  EXPECT_TRUE(testing::allEvents(collector_.httpPort(), "host=web-2").empty());
  EXPECT_EQ(testing::allEvents(collector_.httpPort(), "release=r-failed").size(), 2u);
  EXPECT_EQ(testing::allEvents(collector_.httpPort(), "host=web-1&kind=oom.kill").size(), 1u)
      << "the OOM kill in the failed release's window is its evidence";

  const testing::ParsedMetrics m = metrics();
  EXPECT_EQ(m.value("octolaunch_retention_kept_evidence_events"), 3.0);
  EXPECT_GE(m.value("octolaunch_retention_passes_total").value_or(0), 1.0);
  EXPECT_EQ(m.value("octolaunch_retention_failures_total"), 0.0);
  EXPECT_NEAR(m.value("octolaunch_store_oldest_event_seconds").value_or(0),
              static_cast<double>(old_) / 1e9, 1.0);
  const double size = m.value("octolaunch_store_size_bytes").value_or(0);
  const double used = m.value("octolaunch_store_used_bytes").value_or(0);
  const double free = m.value("octolaunch_store_free_bytes").value_or(0);
  EXPECT_GT(free, 0.0) << "the removed events' pages are free for reuse";
  EXPECT_EQ(used + free, size);

  agent.kill9();
  EXPECT_EQ(collector_.stop(), 0);
  // `check` finds every index entry and count in agreement with the events that are left.
  const testing::RunResult check =
      testing::run({testing::binPath("octolaunch-collector"), "--config", "/dev/null", "check",
                    "--data-dir", (dir_.path() / "collector").string()},
                   120s);
  EXPECT_EQ(check.exitCode, 0) << check.out << check.err;
}

TEST_F(RetentionE2eTest, AConfigThatKeepsRoutineDataLongerThanEvidenceIsRefused) {
  std::ofstream(dir_.path() / "collector.toml")
      << "[retention]\nmax_age_days = 60\nfailed_release_days = 30\n";
  testing::RunResult result =
      testing::run({testing::binPath("octolaunch-collector"), "--config",
                    (dir_.path() / "collector.toml").string(), "--check-config"},
                   30s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("failed_release_days: must be at least max_age_days (60)"),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace octolaunch
