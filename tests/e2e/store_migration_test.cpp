// The real collector on a store written before store formats existed (format 1): `migrate`
// killed with SIGKILL in the middle leaves a store that the next start finishes migrating, and
// the collector then serves every event as before. The store is written in-process by today's
// store code and turned back into format 1 (tests/support/store_layouts.h).
#include <gtest/gtest.h>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/harness.h"
#include "tests/support/sample_store.h"
#include "tests/support/store_layouts.h"

namespace octolaunch {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kEvents = 20000;
constexpr std::size_t kMapSize = std::size_t{1} << 30;

class StoreMigrationE2eTest : public ::testing::Test {
 protected:
  // The sample store (tests/support/sample_store.h), then turned back into format 1.
  void fill() {
    ASSERT_NO_FATAL_FAILURE(testing::fillSampleStore(dir_.path(), kMapSize, kEvents, "agent-m"));
    lmdb::Env env = openCollectorEnv(dir_.path(), kMapSize);
    reference_ = testing::indexDumps(env);
    testing::makeFormatOne(env, /*untaggedEverywhere=*/true);
  }

  std::vector<std::string> migrateArgs(std::size_t perTxn) {
    return {testing::binPath("octolaunch-collector"),
            "--config",
            "/dev/null",
            "migrate",
            "--data-dir",
            dir_.path().string(),
            "--events-per-txn",
            std::to_string(perTxn)};
  }

  testing::TempDir dir_;
  std::map<std::string, testing::DbDump> reference_;
};

TEST_F(StoreMigrationE2eTest, KilledMidwayTheMigrationResumesAndTheCollectorServesEveryEvent) {
  ASSERT_NO_FATAL_FAILURE(fill());
  lmdb::Env env = openCollectorEnv(dir_.path(), kMapSize);  // to watch the migration's progress

  // One event per transaction: slow enough to be caught in the middle.
  testing::Process migrate({.argv = migrateArgs(1), .captureStderr = true});
  std::uint64_t doneWhenKilled = 0;
  ASSERT_TRUE(testing::waitUntil(
      [&]() {
        auto after = testing::metaValue(env, "migrated_after");
        if (!after) return false;
        doneWhenKilled = lmdb::readBigEndian(*after);
        return doneWhenKilled >= 100;
      },
      60s))
      << "no progress recorded: " << migrate.stderrText();
  migrate.kill9();
  // A write transaction first: killed between writing its meta page and announcing it, the last
  // transaction is committed but readers see the one before until a writer takes over the dead
  // writer's lock (LMDB's recovery). Then both reads below see the same, recovered, state.
  const auto halfway = testing::indexDumps(env);
  ASSERT_EQ(testing::metaValue(env, "format"), std::nullopt) << "finished before the kill";
  const std::uint64_t recorded = lmdb::readBigEndian(*testing::metaValue(env, "migrated_after"));
  ASSERT_GE(recorded, doneWhenKilled);
  ASSERT_LT(recorded, kEvents);
  std::size_t tagged = 0;
  for (const auto& [key, value] : halfway.at("idx_time")) tagged += !value.empty();
  EXPECT_EQ(tagged, recorded) << "what the last committed transaction recorded, no more, no less";

  // The collector resumes it when it starts, then serves.
  testing::CollectorProcess collector({.dataDir = dir_.path()});
  collector.start();
  EXPECT_EQ(testing::metaValue(env, "format"), "2");
  EXPECT_EQ(testing::metaValue(env, "migrated_after"), std::nullopt);
  EXPECT_EQ(testing::indexDumps(env), reference_);

  const std::vector<nlohmann::json> r2 = testing::allEvents(collector.httpPort(), "release=r2");
  std::uint64_t expectedR2 = 0;
  for (std::uint64_t seq = 3; seq <= kEvents; seq += 3) expectedR2 += seq % 50 == 0 ? 40 : 1;
  EXPECT_EQ(r2.size(), expectedR2);
  EXPECT_EQ(collector.stop(), 0);

  // Nothing left to do: `migrate` says so.
  testing::RunResult again = testing::run(migrateArgs(1000), 60s);
  EXPECT_EQ(again.exitCode, 0) << again.err;
  EXPECT_NE(again.out.find("format 2 already"), std::string::npos) << again.out;
}

TEST_F(StoreMigrationE2eTest, MigrateReportsWhatItDidAndANewerStoreIsRefused) {
  ASSERT_NO_FATAL_FAILURE(fill());
  testing::RunResult done = testing::run(migrateArgs(5000), 120s);
  EXPECT_EQ(done.exitCode, 0) << done.err;
  EXPECT_NE(
      done.out.find("format 2 (from format 1, " + std::to_string(kEvents) + " events rewritten)"),
      std::string::npos)
      << done.out;
  {
    lmdb::Env env = openCollectorEnv(dir_.path(), kMapSize);
    EXPECT_EQ(testing::indexDumps(env), reference_);
    testing::setMetaValue(env, "format", "3");
  }
  testing::RunResult refused = testing::run(migrateArgs(5000), 60s);
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.err.find("the store has format 3, newer than this collector's format 2"),
            std::string::npos)
      << refused.err;
  // Without a store there is nothing to migrate, and none is created.
  testing::TempDir empty;
  testing::RunResult none =
      testing::run({testing::binPath("octolaunch-collector"), "--config", "/dev/null", "migrate",
                    "--data-dir", (empty.path() / "none").string()},
                   60s);
  EXPECT_EQ(none.exitCode, 1);
  EXPECT_NE(none.err.find("nothing to migrate"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(empty.path() / "none"));
  // The collector itself refuses to start on it, with the same words.
  testing::RunResult serve =
      testing::run({testing::binPath("octolaunch-collector"), "--config", "/dev/null", "--rpc-open",
                    "--data-dir", dir_.path().string(), "--rpc-listen", "127.0.0.1:0",
                    "--http-listen", "127.0.0.1:0"},
                   60s);
  EXPECT_EQ(serve.exitCode, 1);
  EXPECT_NE(serve.err.find("newer than this collector's format 2"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace octolaunch
