// `octolaunch-collector check` on real stores: the real binary on a store written in-process by
// today's store code, clean, damaged on purpose, repaired; beside a running collector; and on a
// directory without a store.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "collector/store/event_keys.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/harness.h"
#include "tests/support/sample_store.h"
#include "tests/support/store_layouts.h"

namespace octolaunch {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kEvents = 5000;
constexpr std::size_t kMapSize = std::size_t{1} << 30;

class StoreCheckE2eTest : public ::testing::Test {
 protected:
  void fill() { testing::fillSampleStore(dir_.path(), kMapSize, kEvents, "agent-c"); }

  testing::RunResult check(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {testing::binPath("octolaunch-collector"),
                                     "--config",
                                     "/dev/null",
                                     "check",
                                     "--data-dir",
                                     dir_.path().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::run(argv, 120s);
  }

  std::string dataFile() {
    std::ifstream in(dir_.path() / "data.mdb", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // The first key of a database.
  std::string firstKey(lmdb::Env& env, const char* db) {
    const testing::DbDump dump = testing::dumpDb(env, db);
    return dump.empty() ? std::string() : dump.begin()->first;
  }

  testing::TempDir dir_;
};

TEST_F(StoreCheckE2eTest, ACleanStoreExitsZeroWithItsSummaryAndStaysAsItWas) {
  ASSERT_NO_FATAL_FAILURE(fill());
  const std::string before = dataFile();
  const testing::RunResult result = check();
  EXPECT_EQ(result.exitCode, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("format 2, checked in "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("events: 5000 (100 hook.blocks of 4000 lines), quarantined: 0"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("idx_release: 5000 entries"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("clean: no damage found"), std::string::npos) << result.out;
  EXPECT_TRUE(dataFile() == before) << "check changed data.mdb";

  // Beside a running collector (another process with the store open): the same answer.
  testing::CollectorProcess collector({.dataDir = dir_.path()});
  collector.start();
  const testing::RunResult beside = check();
  EXPECT_EQ(beside.exitCode, 0) << beside.out << beside.err;
  EXPECT_NE(beside.out.find("clean: no damage found"), std::string::npos) << beside.out;
  EXPECT_EQ(collector.stop(), 0);
}

TEST_F(StoreCheckE2eTest, DamageExitsThreeNamingItAndTheRepairMendsIndexesAndCounts) {
  ASSERT_NO_FATAL_FAILURE(fill());
  std::string gone;
  {
    lmdb::Env env = openCollectorEnv(dir_.path(), kMapSize);
    gone = firstKey(env, "idx_host");
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    ASSERT_TRUE(lmdb::del(txn, lmdb::openDbi(txn, "idx_host"), gone));
    lmdb::put(txn, lmdb::openDbi(txn, "counts"), "rr2", lmdb::bigEndian(7));
    txn.commit();
  }
  const std::string before = dataFile();
  const testing::RunResult damaged = check();
  EXPECT_EQ(damaged.exitCode, 3) << damaged.out << damaged.err;
  EXPECT_NE(damaged.out.find("damage: 3 findings"), std::string::npos) << damaged.out;
  EXPECT_NE(damaged.out.find("idx_host host web-1 time 1700000000000001000 id 1 is missing"),
            std::string::npos)
      << damaged.out;
  EXPECT_NE(damaged.out.find("counts rr2 is 7, the entries number 1666"), std::string::npos)
      << damaged.out;
  EXPECT_NE(damaged.out.find("counts hweb-1 is 5000, the entries number 4999"), std::string::npos)
      << damaged.out;
  EXPECT_TRUE(dataFile() == before) << "check without --repair-indexes changed data.mdb";

  const testing::RunResult repaired = check({"--repair-indexes"});
  EXPECT_EQ(repaired.exitCode, 0) << repaired.out << repaired.err;
  EXPECT_NE(repaired.out.find("repaired indexes in "), std::string::npos) << repaired.out;
  EXPECT_NE(repaired.out.find("1 entries added, 0 values rewritten, 0 entries removed, 1 counts "
                              "rewritten"),
            std::string::npos)
      << repaired.out;
  const testing::RunResult again = check();
  EXPECT_EQ(again.exitCode, 0) << again.out << again.err;

  // An event that does not decode: named, and left by the repair.
  {
    lmdb::Env env = openCollectorEnv(dir_.path(), kMapSize);
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    const MDB_dbi events = lmdb::openDbi(txn, "events");
    const std::string key = lmdb::bigEndian(50);  // the first block, stored compressed
    std::string value(*lmdb::get(txn, events, key));
    value.resize(value.size() / 2);
    lmdb::put(txn, events, key, value);
    txn.commit();
  }
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--repair-indexes"}}) {
    const testing::RunResult broken = check(extra);
    EXPECT_EQ(broken.exitCode, 3) << broken.out << broken.err;
    EXPECT_NE(broken.out.find("1 events that do not decode"), std::string::npos) << broken.out;
    EXPECT_NE(broken.out.find("event id 50: value does not decode (a stored event is damaged"),
              std::string::npos)
        << broken.out;
  }
}

TEST_F(StoreCheckE2eTest, WithoutAStoreItExitsOneAndCreatesNothing) {
  const std::filesystem::path none = dir_.path() / "none";
  const testing::RunResult result =
      testing::run({testing::binPath("octolaunch-collector"), "--config", "/dev/null", "check",
                    "--data-dir", none.string()},
                   60s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("no store in " + none.string() + " (no data.mdb): nothing to check"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(none));
  // An empty directory: the same, and it stays empty.
  const testing::RunResult empty = check();
  EXPECT_EQ(empty.exitCode, 1);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

}  // namespace
}  // namespace octolaunch
