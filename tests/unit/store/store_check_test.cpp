// The store's integrity check and index repair (store_check.h). The tests write events with the
// real store (single events, blocks, a block large enough to be stored compressed, a quarantined
// event), damage the LMDB databases the way a bug or a bad disk would, and check that each damage
// is counted and named, that checking writes nothing, and that the repair gives back exactly the
// indexes and counts the store had written.
#include "collector/store/store_check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <stdexcept>
#include <thread>

#include "collector/store/event_keys.h"
#include "collector/store/event_value.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/store_layouts.h"
#include "tests/support/temp_dir.h"

namespace octolaunch {
namespace {

using testing::BatchMessage;
using testing::EventSpec;

namespace keys = store_keys;

const char* const kAllDbs[] = {"events",      "idx_time",   "idx_kind", "idx_host",
                               "idx_release", "marks",      "agents",   "clocks",
                               "counts",      "quarantine", "meta"};

class StoreCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), std::size_t{256} << 20));
    store_ = std::make_unique<LmdbEventStore>(*env_, clock_);
  }

  // Three agents: single events of several kinds, with and without a release, blocks (one of
  // 2000 lines, stored compressed: agent-1's seq 5), one quarantined event (agent-0's seq 3).
  void fill() {
    for (int agent = 0; agent < 3; ++agent) {
      std::vector<EventSpec> specs;
      const std::string host = agent == 1 ? "db-1" : "web-1";
      std::int64_t t = 1'000'000'000 + agent * 7;
      for (std::uint64_t seq = 1; seq <= 20; ++seq, t += 1000) {
        EventSpec s{.seq = seq, .timeNs = t, .host = host, .release = "r1"};
        if (seq % 5 == 0) s.kind = "hook.exit";
        if (seq % 7 == 0) s.release.clear();
        if (seq % 4 == 0) {
          s.kind = "hook.block";
          s.blockLines = 3 + static_cast<std::uint32_t>(seq);
          s.stderrEvery = seq % 8 == 0 ? 2 : 0;
        }
        if (agent == 1 && seq == 5) {
          s.kind = "hook.block";
          s.blockLines = 2000;
        }
        specs.push_back(s);
      }
      BatchMessage m("agent-" + std::to_string(agent), 9, specs, host);
      IngestBatch b = m.batch();
      const std::vector<QuarantineNote> notes = {{.index = 2, .reason = "too long"}};
      if (agent == 0) b.quarantine = notes;
      auto results = store_->commitBatches({&b, 1});
      ASSERT_EQ(results.at(0).outcome, BatchResult::Outcome::committed);
      stored_ += results.at(0).stored;
    }
  }

  std::map<std::string, testing::DbDump> everyDb() {
    std::map<std::string, testing::DbDump> out;
    for (const char* name : kAllDbs) out[name] = testing::dumpDb(*env_, name);
    return out;
  }

  void put(const char* db, const std::string& key, const std::string& value) {
    lmdb::Txn txn = lmdb::Txn::begin(*env_, lmdb::Txn::Mode::write);
    lmdb::put(txn, lmdb::openDbi(txn, db), key, value);
    txn.commit();
  }

  void del(const char* db, const std::string& key) {
    lmdb::Txn txn = lmdb::Txn::begin(*env_, lmdb::Txn::Mode::write);
    ASSERT_TRUE(lmdb::del(txn, lmdb::openDbi(txn, db), key)) << db;
    txn.commit();
  }

  // The key of event `id`'s entry in an index database.
  std::string indexKeyOf(const char* db, std::uint64_t id) {
    for (const auto& [key, value] : testing::dumpDb(*env_, db)) {
      if (lmdb::readBigEndian(std::string_view(key).substr(key.size() - 8)) == id) return key;
    }
    ADD_FAILURE() << db << " has no entry for event id " << id;
    return {};
  }

  // The id of the one event stored compressed.
  std::uint64_t compressedEventId() {
    for (const auto& [key, value] : testing::dumpDb(*env_, "events")) {
      if (!value.empty() && value[0] == kZstdTag) return lmdb::readBigEndian(key);
    }
    ADD_FAILURE() << "no event is stored compressed";
    return 0;
  }

  // Damage of every kind the repair can mend: an entry gone, one added that points at no event,
  // one added under a host its event is not on, a wrong value, a wrong count.
  void damageIndexesAndCounts() {
    del("idx_kind", indexKeyOf("idx_kind", 3));
    put("idx_release", keys::indexKey(keys::indexPrefix("r1"), 5000, 999999), "\x82");
    const std::string time1 = indexKeyOf("idx_time", 1);
    put("idx_host", keys::indexPrefix("db-9") + time1, "\x80");
    put("idx_time", indexKeyOf("idx_time", 6), std::string("\x80\x00", 2));
    put("counts", "hdb-1", lmdb::bigEndian(5));
  }

  static bool named(const StoreCheckReport& report, StoreDamage kind, const std::string& text) {
    for (const StoreFinding& f : report.findings) {
      if (f.kind == kind && f.text.find(text) != std::string::npos) return true;
    }
    return false;
  }

  static std::string listed(const StoreCheckReport& report) {
    std::string out;
    for (const StoreFinding& f : report.findings) out += "\n  " + f.text;
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> store_;
  std::uint64_t stored_ = 0;
};

TEST_F(StoreCheckTest, AStoreAsTheCollectorWroteItIsClean) {
  ASSERT_NO_FATAL_FAILURE(fill());
  std::uint64_t progressCalls = 0;
  const StoreCheckReport report = checkStore(
      *env_,
      {.maxFindingsListed = 20, .progress = [&](const StoreCheckProgress&) { ++progressCalls; }});
  EXPECT_TRUE(report.clean()) << listed(report);
  EXPECT_EQ(report.format, 2u);
  EXPECT_EQ(report.events, stored_);
  EXPECT_EQ(report.events, 59u);  // 3 x 20, one quarantined
  EXPECT_EQ(report.blocks, 16u);  // seq 4, 8, 12, 16, 20 of each agent and agent-1's seq 5
  EXPECT_GT(report.blockLines, 2000u);
  EXPECT_EQ(report.quarantined, 1u);
  EXPECT_EQ(report.indexEntries.at("idx_time"), stored_);
  EXPECT_EQ(report.indexEntries.at("idx_kind"), stored_);
  EXPECT_EQ(report.indexEntries.at("idx_host"), stored_);
  EXPECT_LT(report.indexEntries.at("idx_release"), stored_);
  EXPECT_GT(report.counts, 4u);
  EXPECT_GE(progressCalls, 1u);
}

TEST_F(StoreCheckTest, ChecksWhileTheStoreIsWrittenSeeOneConsistentSnapshot) {
  ASSERT_NO_FATAL_FAILURE(fill());
  // A writer commits batches (blocks among them) on its own thread while checks (and a repair) run
  // here: each check sees the store as of one commit, never an event without its entries or
  // counts.
  std::atomic<bool> done{false};
  std::thread writer([&]() {
    for (std::uint64_t batch = 0; batch < 200; ++batch) {
      std::vector<EventSpec> specs;
      for (std::uint64_t seq = batch * 20 + 1; seq <= batch * 20 + 20; ++seq) {
        EventSpec s{.seq = seq,
                    .timeNs = 5'000'000'000 + static_cast<std::int64_t>(seq),
                    .host = "web-2",
                    .release = seq % 2 ? "r2" : "r3"};
        if (seq % 5 == 0) {
          s.kind = "hook.block";
          s.blockLines = 30;
        }
        specs.push_back(s);
      }
      BatchMessage m("agent-w", 1, specs, "web-2");
      IngestBatch b = m.batch();
      store_->commitBatches({&b, 1});
    }
    done = true;
  });
  int checks = 0;
  std::uint64_t lastEvents = 0;
  while (!done || checks < 3) {
    const StoreCheckReport report = checkStore(*env_);
    ++checks;
    EXPECT_TRUE(report.clean()) << "check " << checks << listed(report);
    EXPECT_GE(report.events, lastEvents);
    lastEvents = report.events;
    if (checks == 2) {  // a repair meanwhile finds nothing to mend either
      const IndexRepairResult repair = repairIndexes(*env_, {.itemsPerTxn = 50, .progress = {}});
      EXPECT_EQ(repair.entriesAdded + repair.valuesRewritten + repair.entriesRemoved +
                    repair.countsRewritten,
                0u);
    }
  }
  writer.join();
  const StoreCheckReport last = checkStore(*env_);
  EXPECT_TRUE(last.clean()) << listed(last);
  EXPECT_EQ(last.events, stored_ + 4000);
  EXPECT_GE(checks, 3);
}

TEST_F(StoreCheckTest, EachKindOfDamageIsNamedWhereItIsAndCheckingWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(fill());
  ASSERT_NO_FATAL_FAILURE(damageIndexesAndCounts());
  const std::uint64_t compressed = compressedEventId();
  std::string value = testing::dumpDb(*env_, "events").at(lmdb::bigEndian(compressed));
  value.resize(value.size() / 2);
  put("events", lmdb::bigEndian(compressed), value);
  // agent-1's mark two below what it stored: seq 19 and 20 lie above it.
  const std::string markKey = keys::markKey("agent-1", 9);
  keys::Mark mark = keys::decodeMark(testing::dumpDb(*env_, "marks").at(markKey));
  ASSERT_EQ(mark.lastSeq, 20u);
  mark.lastSeq = 18;
  put("marks", markKey, keys::encodeMark(mark));

  const auto before = everyDb();
  const StoreCheckReport report = checkStore(*env_, {.maxFindingsListed = 100, .progress = {}});
  EXPECT_EQ(everyDb(), before) << "the check wrote to the store";

  const std::string all = listed(report);
  EXPECT_FALSE(report.clean());
  EXPECT_EQ(report.damageOf(StoreDamage::indexEntryMissing), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::indexEntryMissing, "idx_kind kind ")) << all;
  EXPECT_TRUE(named(report, StoreDamage::indexEntryMissing, " id 3 is missing")) << all;
  EXPECT_EQ(report.damageOf(StoreDamage::eventUndecodable), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::eventUndecodable,
                    "event id " + std::to_string(compressed) + ": value does not decode ("))
      << all;
  EXPECT_EQ(report.damageOf(StoreDamage::indexEntryDangling), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::indexEntryDangling,
                    "idx_release release r1 time 5000 id 999999: event id 999999 points at no "
                    "event"))
      << all;
  EXPECT_EQ(report.damageOf(StoreDamage::indexEntryStray), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::indexEntryStray,
                    "idx_host host db-9 time 1000000000 id 1 does not belong to event id 1, "
                    "which implies idx_host host web-1 time 1000000000 id 1"))
      << all;
  EXPECT_EQ(report.damageOf(StoreDamage::indexValueWrong), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::indexValueWrong, " id 6 has value 8000, event id 6 "))
      << all;
  EXPECT_EQ(report.damageOf(StoreDamage::eventAboveMark), 2u) << all;
  EXPECT_TRUE(named(report, StoreDamage::eventAboveMark,
                    "(agent agent-1, epoch 9, seq 19) is above its high-water mark 18"))
      << all;
  // hdb-1 set to 5; the kind count of event 3 (its entry gone), r1 (an entry added) and hdb-9
  // (an entry and no count) no longer match the entries.
  EXPECT_EQ(report.damageOf(StoreDamage::countWrong), 4u) << all;
  EXPECT_TRUE(named(report, StoreDamage::countWrong, "counts hdb-1 is 5, the entries number 20"))
      << all;
  EXPECT_TRUE(named(report, StoreDamage::countWrong, "counts hdb-9 is missing")) << all;
  EXPECT_EQ(report.damageTotal(), 11u) << all;
  EXPECT_EQ(report.findings.size(), 11u);

  // The list stops at its limit; the counts do not.
  const StoreCheckReport few = checkStore(*env_, {.maxFindingsListed = 2, .progress = {}});
  EXPECT_EQ(few.findings.size(), 2u);
  EXPECT_EQ(few.damageTotal(), 11u);
}

TEST_F(StoreCheckTest, QuarantineIsCheckedToo) {
  ASSERT_NO_FATAL_FAILURE(fill());
  const testing::DbDump quarantine = testing::dumpDb(*env_, "quarantine");
  ASSERT_EQ(quarantine.size(), 1u);
  const auto& [key, value] = *quarantine.begin();
  // The same event kept for an agent that never pushed: no mark; and the original cut short.
  put("quarantine", keys::quarantineKey("agent-7", 1, 5), value);
  put("quarantine", key, value.substr(0, 10));
  const StoreCheckReport report = checkStore(*env_);
  const std::string all = listed(report);
  EXPECT_EQ(report.quarantined, 2u);
  EXPECT_EQ(report.damageOf(StoreDamage::quarantineUndecodable), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::quarantineUndecodable,
                    "quarantine key " + std::string("6167656e742d30") + "00"))
      << all;
  EXPECT_EQ(report.damageOf(StoreDamage::markMissing), 1u) << all;
  EXPECT_TRUE(named(report, StoreDamage::markMissing,
                    "quarantined event (agent agent-7, epoch 1, seq 5) has no high-water mark"))
      << all;
  EXPECT_TRUE(named(report, StoreDamage::countWrong, "counts q is 1, the entries number 2")) << all;
  EXPECT_EQ(report.damageTotal(), 3u) << all;
}

TEST_F(StoreCheckTest, RepairGivesBackTheIndexesAndCountsTheStoreWrote) {
  ASSERT_NO_FATAL_FAILURE(fill());
  const auto written = everyDb();
  ASSERT_NO_FATAL_FAILURE(damageIndexesAndCounts());
  const StoreCheckReport damaged = checkStore(*env_);
  EXPECT_EQ(damaged.damageTotal(), 8u) << listed(damaged);

  // Small transactions: the repair resumes in every database.
  const IndexRepairResult repaired = repairIndexes(*env_, {.itemsPerTxn = 7, .progress = {}});
  EXPECT_EQ(repaired.entriesAdded, 1u);
  EXPECT_EQ(repaired.valuesRewritten, 1u);
  EXPECT_EQ(repaired.entriesRemoved, 2u);
  EXPECT_EQ(repaired.countsRewritten, 1u);  // hdb-1; the others match again
  EXPECT_EQ(repaired.eventsUndecodable, 0u);
  EXPECT_EQ(everyDb(), written);
  const StoreCheckReport again = checkStore(*env_);
  EXPECT_TRUE(again.clean()) << listed(again);
}

TEST_F(StoreCheckTest, AnEventThatDoesNotDecodeStaysAndIsAllTheSecondCheckFinds) {
  ASSERT_NO_FATAL_FAILURE(fill());
  ASSERT_NO_FATAL_FAILURE(damageIndexesAndCounts());
  const std::uint64_t compressed = compressedEventId();
  std::string value = testing::dumpDb(*env_, "events").at(lmdb::bigEndian(compressed));
  value.resize(value.size() / 2);
  put("events", lmdb::bigEndian(compressed), value);
  const auto damaged = everyDb();

  const IndexRepairResult repaired = repairIndexes(*env_);
  EXPECT_EQ(repaired.eventsUndecodable, 1u);
  const auto after = everyDb();
  for (const char* untouched : {"events", "marks", "agents", "clocks", "quarantine", "meta"}) {
    EXPECT_EQ(after.at(untouched), damaged.at(untouched)) << untouched;
  }
  const StoreCheckReport again = checkStore(*env_);
  EXPECT_EQ(again.damageTotal(), 1u) << listed(again);
  EXPECT_EQ(again.damageOf(StoreDamage::eventUndecodable), 1u) << listed(again);
}

TEST_F(StoreCheckTest, AStoreOfAnotherFormatIsNotCheckedAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(fill());
  testing::setMetaValue(*env_, "format", "3");
  try {
    checkStore(*env_);
    FAIL() << "a newer store was checked";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this collector's format 2"), std::string::npos)
        << e.what();
  }
  testing::makeFormatOne(*env_, /*untaggedEverywhere=*/true);
  try {
    checkStore(*env_);
    FAIL() << "a format-1 store was checked";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("format 1, older than this collector's format 2: run "
                                         "`octolaunch-collector migrate`"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(repairIndexes(*env_), StoreError);
}

}  // namespace
}  // namespace octolaunch
