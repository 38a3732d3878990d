// Retention passes on a real LMDB store: what goes (old routine events, then the oldest above the
// size cap), what stays (a failed release's evidence, recent events, high-water marks), and that
// the indexes and counts agree with the events after every pass.
#include "collector/retention/retention_pass.h"

#include <gtest/gtest.h>

#include <set>

#include "collector/analysis/release_analysis.h"
#include "collector/retention/evidence_shield.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_check.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::retention {
namespace {

using testing::BatchMessage;
using testing::EventSpec;

constexpr std::int64_t kDay = kNanosecondsPerDay;

// What `check` finds wrong with the store (docs/store-format.md): one line per finding.
std::vector<std::string> storeDamage(lmdb::Env& env) {
  std::vector<std::string> found;
  for (const StoreFinding& f : checkStore(env).findings) found.push_back(f.text);
  return found;
}

class RetentionPassTest : public ::testing::Test {
 protected:
  void SetUp() override { open(kMapSize); }

  void open(std::size_t mapSize) {
    service_.reset();
    releases_.reset();
    events_.reset();
    env_.reset();
    mapSize_ = mapSize;
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), mapSize));
    events_ = std::make_unique<LmdbEventStore>(*env_, clock_);
    releases_ = std::make_unique<LmdbReleaseStore>(*env_);
    service_ = std::make_unique<releases::ReleaseService>(*events_, *releases_, writer_, clock_,
                                                          analysisOptions_);
  }

  void commit(const std::string& agent, const std::vector<EventSpec>& specs,
              const std::string& host = "") {
    BatchMessage m(agent, 1, specs, host);
    IngestBatch b = m.batch();
    const BatchResult result = events_->commitBatches({&b, 1}).at(0);
    ASSERT_EQ(result.outcome, BatchResult::Outcome::committed);
    ASSERT_EQ(result.stored, specs.size());
  }

  PassReport pass(const collector::RetentionSettings& settings, const EvidenceShield& shield) {
    return runRetentionPass({.events = *events_,
                             .writer = writer_,
                             .env = *env_,
                             .settings = settings,
                             .mapSize = mapSize_,
                             .shield = shield,
                             .nowNs = clock_.now,
                             .stop = nullptr});
  }

  // (agent, seq) of every stored event.
  std::set<std::pair<std::string, std::uint64_t>> stored() {
    std::set<std::pair<std::string, std::uint64_t>> out;
    events_->forEachEvent({}, [&](schema::Event::Reader e) {
      out.emplace(e.getAgentId().cStr(), e.getSeq());  // a block's lines share its seq
      return true;
    });
    return out;
  }

  static constexpr std::size_t kMapSize = std::size_t{256} << 20;
  std::size_t mapSize_ = kMapSize;
  testing::TempDir dir_;
  testing::FakeClock clock_;
  InlineWriteSerializer writer_;
  analysis::AnalysisOptions analysisOptions_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> events_;
  std::unique_ptr<LmdbReleaseStore> releases_;
  std::unique_ptr<releases::ReleaseService> service_;
};

TEST_F(RetentionPassTest, OldEventsGoWithTheirIndexEntriesAndAFailedReleasesEvidenceStays) {
  const std::int64_t old = clock_.now - 40 * kDay;
  const std::int64_t recent = clock_.now - 1 * kDay;
  // A failed release 40 days ago on web-1: its deploy started, a hook failed, it never finished.
  ASSERT_TRUE(service_->registerRelease({{"id", "r-failed"}, {"service", "api"}}).ok());
  ASSERT_NO_FATAL_FAILURE(commit(
      "agent-1",
      {{.seq = 1, .timeNs = old, .host = "web-1", .release = "r-failed", .kind = "deploy.start"},
       {.seq = 2,
        .timeNs = old + 1'000'000,
        .host = "web-1",
        .release = "r-failed",
        .kind = "hook.block",
        .blockLines = 30},
       {.seq = 3,
        .timeNs = old + 2'000'000,
        .host = "web-1",
        .release = "r-failed",
        .kind = "hook.exit"},
       // During its window on its host, without the release's id: evidence.
       {.seq = 4, .timeNs = old + 3'000'000, .host = "web-1", .kind = "oom.kill"}},
      "web-1"));
  // Routine data of the same age elsewhere: an OOM kill on another host and a release's output.
  std::vector<EventSpec> routine = {
      {.seq = 1, .timeNs = old + 3'000'000, .host = "web-2", .kind = "oom.kill"}};
  for (std::uint64_t seq = 2; seq <= 40; ++seq) {
    routine.push_back({.seq = seq,
                       .timeNs = old + static_cast<std::int64_t>(seq) * 1'000'000'000,
                       .host = "web-2",
                       .release = "r-old",
                       .kind = seq % 5 == 0 ? "hook.block" : "hook.output",
                       .blockLines = 20});
  }
  ASSERT_NO_FATAL_FAILURE(commit("agent-2", routine, "web-2"));
  ASSERT_NO_FATAL_FAILURE(commit("agent-3", testing::outputLines(1, 25, "r-new", recent), "web-3"));
  ASSERT_TRUE(storeDamage(*env_).empty());

  ShieldSummary summary;
  const EvidenceShield shield =
      failedReleaseEvidence(*service_, *releases_, clock_.now - 180 * kDay, summary);
  EXPECT_EQ(summary.releasesExamined, 1u);
  ASSERT_EQ(summary.failedReleases, 1u) << "r-failed never finished and its hook failed";

  collector::RetentionSettings settings;
  settings.batchEvents = 7;  // several steps, one ending inside the kept evidence
  const PassReport report = pass(settings, shield);
  EXPECT_EQ(report.deletedByAge, 40u);
  EXPECT_EQ(report.deletedBySize, 0u);
  EXPECT_EQ(report.keptEvidence, 4u);
  EXPECT_EQ(report.recordsDeleted, 1u + 31u + 8u * 20u);  // lines of the blocks count
  EXPECT_GT(report.steps, 6u);

  std::set<std::pair<std::string, std::uint64_t>> expected;
  for (std::uint64_t seq = 1; seq <= 4; ++seq) expected.emplace("agent-1", seq);
  for (std::uint64_t seq = 1; seq <= 25; ++seq) expected.emplace("agent-3", seq);
  EXPECT_EQ(stored(), expected);
  EXPECT_EQ(storeDamage(*env_), std::vector<std::string>());
  EXPECT_TRUE(events_->query({.release = "r-old", .limit = 10}).events.empty());
  EXPECT_TRUE(events_->query({.host = "web-2", .limit = 10}).events.empty());
  EXPECT_EQ(events_->oldestEventNs(), old);

  // The marks stay: a redelivery of a removed event is a duplicate, never stored again.
  EXPECT_EQ(events_->highWater("agent-2", 1), 40u);
  BatchMessage again("agent-2", 1, routine, "web-2");
  IngestBatch b = again.batch();
  const BatchResult redelivered = events_->commitBatches({&b, 1}).at(0);
  EXPECT_EQ(redelivered.stored, 0u);
  EXPECT_EQ(redelivered.skipped, 40u);

  // A second pass has nothing left to remove.
  const PassReport second = pass(settings, shield);
  EXPECT_EQ(second.deletedByAge, 0u);
  EXPECT_EQ(second.keptEvidence, 4u);
  // Without the shield (the release older than failed_release_days), its evidence goes too.
  const PassReport unshielded = pass(settings, EvidenceShield());
  EXPECT_EQ(unshielded.deletedByAge, 4u);
  EXPECT_EQ(events_->oldestEventNs(), recent + 1000);
  EXPECT_EQ(storeDamage(*env_), std::vector<std::string>());
}

// 20,000 events of ~200 bytes over 20 days (none past max_age_days), the oldest 100 shielded.
TEST_F(RetentionPassTest, AboveTheSizeCapTheOldestRoutineEventsGoUntilTheStoreIsBelowIt) {
  const std::int64_t start = clock_.now - 20 * kDay;
  const std::int64_t step = 20 * kDay / 20000;
  const std::string text(200, 'x');
  for (std::uint64_t first = 1; first <= 20000; first += 1000) {
    std::vector<EventSpec> specs;
    for (std::uint64_t seq = first; seq < first + 1000; ++seq) {
      specs.push_back({.seq = seq,
                       .timeNs = start + static_cast<std::int64_t>(seq) * step,
                       .host = "web-1",
                       .release = seq <= 100 ? "r-failed" : "r-" + std::to_string(seq / 1000),
                       .line = text + std::to_string(seq)});
    }
    ASSERT_NO_FATAL_FAILURE(commit("agent-1", specs, "web-1"));
  }
  const std::uint64_t used = currentSpaceUse(*env_).usedBytes();
  collector::RetentionSettings settings;
  settings.maxSizeBytes = used / 2;
  EvidenceShield shield;
  shield.coverRelease("r-failed");

  const PassReport report = pass(settings, shield);
  EXPECT_EQ(report.deletedByAge, 0u);
  EXPECT_GT(report.deletedBySize, 5000u);
  EXPECT_LT(report.deletedBySize, 19900u);
  EXPECT_FALSE(report.capUnmet);
  EXPECT_LE(report.after.usedBytes(), settings.maxSizeBytes / 20 * 19);
  EXPECT_LT(report.after.usedBytes(), report.before.usedBytes());
  EXPECT_GT(report.after.freeBytes, 0u) << "the pages freed wait for reuse";

  // The shielded 100 and a suffix of the rest, in time order, remain.
  const auto left = stored();
  std::uint64_t firstRoutine = 0;
  for (std::uint64_t seq = 1; seq <= 20000; ++seq) {
    const bool there = left.contains({"agent-1", seq});
    if (seq <= 100) {
      EXPECT_TRUE(there) << seq;
    } else if (there && firstRoutine == 0) {
      firstRoutine = seq;
    } else if (firstRoutine != 0) {
      ASSERT_TRUE(there) << "event " << seq << " went though the older " << firstRoutine
                         << " stayed";
    }
  }
  EXPECT_EQ(left.size(), 100u + (20001 - firstRoutine));
  EXPECT_EQ(20000 - left.size(), report.deletedBySize);
  EXPECT_EQ(storeDamage(*env_), std::vector<std::string>());

  // New events reuse the freed pages: the file does not grow.
  const std::uint64_t extent = report.after.extentBytes;
  std::vector<EventSpec> more;
  for (std::uint64_t seq = 20001; seq <= 21000; ++seq) {
    more.push_back({.seq = seq, .timeNs = clock_.now, .host = "web-1", .line = text});
  }
  ASSERT_NO_FATAL_FAILURE(commit("agent-1", more, "web-1"));
  EXPECT_EQ(currentSpaceUse(*env_).extentBytes, extent);
}

TEST_F(RetentionPassTest, WhenOnlyEvidenceIsLeftAboveTheCapThePassSaysSoAndKeepsIt) {
  ASSERT_NO_FATAL_FAILURE(
      commit("agent-1", testing::outputLines(1, 3000, "r-failed", clock_.now), "web-1"));
  collector::RetentionSettings settings;
  settings.maxSizeBytes = currentSpaceUse(*env_).usedBytes() / 2;
  EvidenceShield shield;
  shield.coverRelease("r-failed");
  const PassReport report = pass(settings, shield);
  EXPECT_TRUE(report.capUnmet);
  EXPECT_EQ(report.deletedBySize, 0u);
  EXPECT_EQ(stored().size(), 3000u);
}

// The map filled up before retention ran (it was off, or the cap was set at the map): a pass can
// still remove events (deleting needs pages too), and ingest goes on.
TEST_F(RetentionPassTest, AFullMapIsFreedByAPassAndIngestResumes) {
  open(std::size_t{4} << 20);
  const std::string text(200, 'x');
  std::uint64_t seq = 0;
  bool full = false;
  while (!full && seq < 200000) {
    std::vector<EventSpec> specs;
    for (int i = 0; i < 100; ++i, ++seq) {
      specs.push_back({.seq = seq + 1,
                       .timeNs = clock_.now - 40 * kDay + static_cast<std::int64_t>(seq),
                       .host = "web-1",
                       .release = "r-old",
                       .line = text});
    }
    BatchMessage m("agent-1", 1, specs, "web-1");
    IngestBatch b = m.batch();
    try {
      events_->commitBatches({&b, 1});
    } catch (const StoreError& e) {
      ASSERT_EQ(e.kind(), StoreError::Kind::full) << e.what();
      full = true;
      seq -= 100;
    }
  }
  ASSERT_TRUE(full) << "the 4 MiB map never filled";
  const PassReport report = pass(collector::RetentionSettings{}, EvidenceShield());
  EXPECT_EQ(report.deletedByAge, seq);
  EXPECT_GT(report.stepsShrunk, 0u) << "a step of 1000 does not fit a full map";
  EXPECT_EQ(stored().size(), 0u);
  ASSERT_NO_FATAL_FAILURE(
      commit("agent-1", testing::outputLines(seq + 1, seq + 100, "r-new", clock_.now), "web-1"));
  EXPECT_EQ(storeDamage(*env_), std::vector<std::string>());
}

TEST_F(RetentionPassTest, AStopBetweenStepsEndsThePassWithTheStoreConsistent) {
  ASSERT_NO_FATAL_FAILURE(
      commit("agent-1", testing::outputLines(1, 500, "r-old", clock_.now - 40 * kDay), "web-1"));
  collector::RetentionSettings settings;
  settings.batchEvents = 50;
  std::atomic<bool> stop{false};
  // The serializer sets the stop flag after the third step has run.
  struct StoppingWriter final : WriteSerializer {
    std::atomic<bool>& stop;
    int runs = 0;
    explicit StoppingWriter(std::atomic<bool>& s) : stop(s) {}
    void run(const std::function<void()>& write) override {
      write();
      if (++runs == 3) stop = true;
    }
  } writer(stop);
  const PassReport report = runRetentionPass({.events = *events_,
                                              .writer = writer,
                                              .env = *env_,
                                              .settings = settings,
                                              .mapSize = kMapSize,
                                              .shield = EvidenceShield(),
                                              .nowNs = clock_.now,
                                              .stop = &stop});
  EXPECT_TRUE(report.stopped);
  EXPECT_EQ(report.deletedByAge, 150u);
  EXPECT_EQ(stored().size(), 350u);
  EXPECT_EQ(storeDamage(*env_), std::vector<std::string>());
}

}  // namespace
}  // namespace octolaunch::retention
