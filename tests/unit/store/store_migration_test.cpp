// The store's format record and the in-place migration of a format-1 store (store_format.h,
// store_migration.h). A format-1 store is what the collector wrote before formats existed: no
// `meta` database and empty values in idx_time and idx_kind (and, older still, in idx_host and
// idx_release too). The tests write events with today's store, take the index databases as the
// reference, turn the store back into format 1 the way the older code left it, and check that the
// migration gives back exactly the reference.
#include "collector/store/store_migration.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "collector/store/store_format.h"
#include "shared/event/event_json.h"
#include "tests/support/event_batches.h"
#include "tests/support/store_layouts.h"
#include "tests/support/temp_dir.h"

namespace octolaunch {
namespace {

using testing::BatchMessage;
using testing::EventSpec;

using testing::dumpDb;
using testing::indexDumps;
using testing::makeFormatOne;
using testing::metaValue;

class StoreMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store_.reset();
    env_.reset();
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), std::size_t{64} << 20));
    store_ = std::make_unique<LmdbEventStore>(*env_, clock_);
  }

  // 3 agents' worth of every index shape: single lines, blocks (stdout only and mixed), events
  // with and without a release, on two hosts. Returns how many events it stored.
  std::size_t fill() {
    std::size_t stored = 0;
    for (int agent = 0; agent < 3; ++agent) {
      std::vector<EventSpec> specs;
      const std::string host = agent == 2 ? "db-1" : "web-1";
      std::int64_t t = 1'000'000'000 + agent * 7;
      for (std::uint64_t seq = 1; seq <= 20; ++seq, t += 1000) {
        EventSpec s{.seq = seq, .timeNs = t, .host = host, .release = "r1"};
        if (seq % 5 == 0) s.kind = "hook.exit";
        if (seq % 7 == 0) s.release.clear();
        if (seq % 4 == 0) {
          s.kind = "hook.block";
          s.line = "step";
          s.blockLines = 3 + static_cast<std::uint32_t>(seq);
          s.stderrEvery = seq % 8 == 0 ? 2 : 0;
        }
        if (seq == 11) s.kind = "oom.kill";
        specs.push_back(s);
      }
      BatchMessage m("agent-" + std::to_string(agent), 9, specs, host);
      IngestBatch b = m.batch();
      auto results = store_->commitBatches({&b, 1});
      EXPECT_EQ(results.at(0).outcome, BatchResult::Outcome::committed);
      stored += results.at(0).stored;
    }
    return stored;
  }

  // Every record the store gives back, by each index, as JSON lines.
  std::vector<std::string> everything() {
    std::vector<std::string> out;
    for (const EventQuery& q :
         {EventQuery{}, EventQuery{.release = "r1"}, EventQuery{.host = "db-1"},
          EventQuery{.kind = "hook.output"}, EventQuery{.release = "r1", .kind = "hook.exit"}}) {
      EventQuery paged = q;
      paged.limit = 7;
      for (int pages = 0; pages < 1000; ++pages) {
        EventPage page = store_->query(paged);
        for (const StoredEvent& e : page.events) {
          withEvent(e.bytes, [&](schema::Event::Reader r) { out.push_back(eventJson(r).dump()); });
        }
        if (!page.nextCursor) break;
        paged.cursor = *page.nextCursor;
      }
      out.push_back("--");
    }
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> store_;
};

class FormatOneTest : public StoreMigrationTest, public ::testing::WithParamInterface<bool> {};

TEST_F(StoreMigrationTest, ANewStoreRecordsTheCurrentFormatAndNeedsNoMigration) {
  EXPECT_EQ(metaValue(*env_, "format"), std::to_string(kStoreFormat));
  fill();
  const MigrationResult result = migrateStore(*env_);
  EXPECT_EQ(result.fromFormat, kStoreFormat);
  EXPECT_EQ(result.eventsRewritten, 0u);
}

TEST_F(StoreMigrationTest, EveryIndexEntryOfTheCurrentFormatIsTagged) {
  fill();
  for (const auto& [name, entries] : indexDumps(*env_)) {
    ASSERT_FALSE(entries.empty()) << name;
    for (const auto& [key, value] : entries) {
      ASSERT_FALSE(value.empty()) << name << " has an untagged entry";
    }
  }
}

TEST_F(StoreMigrationTest, AStoreOfANewerFormatIsRefusedNamingBothVersions) {
  fill();
  testing::setMetaValue(*env_, "format", std::to_string(kStoreFormat + 1));
  store_.reset();
  const std::string newer = "format " + std::to_string(kStoreFormat + 1);
  const std::string ours = "format " + std::to_string(kStoreFormat);
  try {
    LmdbEventStore refused(*env_, clock_);
    FAIL() << "a newer store was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(newer), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(ours), std::string::npos) << e.what();
  }
  EXPECT_THROW(migrateStore(*env_), StoreError);
  EXPECT_EQ(metaValue(*env_, "format"), std::to_string(kStoreFormat + 1)) << "left as it was";
}

TEST_F(StoreMigrationTest, ADamagedFormatRecordIsAnErrorNotAGuess) {
  testing::setMetaValue(*env_, "format", "two");
  store_.reset();
  EXPECT_THROW(LmdbEventStore(*env_, clock_), StoreError);
  EXPECT_THROW(migrateStore(*env_), StoreError);
}

TEST_P(FormatOneTest, ReadsTheSameAndMigratesToWhatAFreshStoreWrites) {
  const bool oldest = GetParam();
  const std::size_t stored = fill();
  const auto reference = indexDumps(*env_);
  const std::vector<std::string> readBefore = everything();
  ASSERT_GT(readBefore.size(), 100u);
  makeFormatOne(*env_, oldest);
  open();  // a format-1 store opens and reads as it is
  EXPECT_EQ(metaValue(*env_, "format"), std::nullopt);
  EXPECT_NE(indexDumps(*env_), reference);
  EXPECT_EQ(everything(), readBefore);

  store_.reset();
  std::vector<MigrationProgress> seen;
  const MigrationResult result = migrateStore(
      *env_,
      {.eventsPerTxn = 7, .progress = [&](const MigrationProgress& p) { seen.push_back(p); }});
  EXPECT_EQ(result.fromFormat, 1u);
  EXPECT_FALSE(result.resumed);
  EXPECT_EQ(result.eventsRewritten, stored);
  EXPECT_EQ(result.indexEntriesMissing, 0u);
  ASSERT_EQ(seen.size(), (stored + 6) / 7);
  EXPECT_EQ(seen.back().eventsDone, stored);
  EXPECT_EQ(seen.back().eventsTotal, stored);
  EXPECT_EQ(indexDumps(*env_), reference);
  EXPECT_EQ(metaValue(*env_, "format"), std::to_string(kStoreFormat));
  EXPECT_EQ(metaValue(*env_, "migrated_after"), std::nullopt);
  open();
  EXPECT_EQ(everything(), readBefore);
}

// false: the layout just before formats (untagged idx_time and idx_kind); true: older still,
// before any index value carried tags.
INSTANTIATE_TEST_SUITE_P(Layouts, FormatOneTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Untagged" : "TimeAndKind"; });

TEST_F(StoreMigrationTest, AnInterruptedMigrationLeavesAReadableStoreAndResumes) {
  const std::size_t stored = fill();
  const auto reference = indexDumps(*env_);
  const std::vector<std::string> readBefore = everything();
  makeFormatOne(*env_, /*oldest=*/true);
  store_.reset();

  struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
  };
  int transactions = 0;
  EXPECT_THROW(migrateStore(*env_, {.eventsPerTxn = 10,
                                    .progress =
                                        [&](const MigrationProgress&) {
                                          if (++transactions == 2) throw Interrupted();
                                        }}),
               Interrupted);
  // Two transactions committed: 20 events' entries tagged, the rest not, no format yet.
  EXPECT_EQ(metaValue(*env_, "format"), std::nullopt);
  ASSERT_TRUE(metaValue(*env_, "migrated_after").has_value());
  EXPECT_EQ(lmdb::readBigEndian(*metaValue(*env_, "migrated_after")), 20u);
  std::size_t tagged = 0;
  for (const auto& [key, value] : dumpDb(*env_, "idx_time")) tagged += !value.empty();
  EXPECT_EQ(tagged, 20u);
  open();
  EXPECT_EQ(everything(), readBefore) << "a half-migrated store reads the same";

  store_.reset();
  std::vector<MigrationProgress> seen;
  const MigrationResult result = migrateStore(
      *env_,
      {.eventsPerTxn = 10, .progress = [&](const MigrationProgress& p) { seen.push_back(p); }});
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.eventsRewritten, stored - 20);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().eventsDone, 30u) << "counts what the interrupted run finished";
  EXPECT_EQ(seen.back().eventsDone, stored);
  EXPECT_EQ(indexDumps(*env_), reference);
  EXPECT_EQ(metaValue(*env_, "format"), std::to_string(kStoreFormat));
  open();
  EXPECT_EQ(everything(), readBefore);
}

TEST_F(StoreMigrationTest, AMissingIndexEntryIsCountedNotCreated) {
  const std::size_t stored = fill();
  makeFormatOne(*env_, /*oldest=*/false);
  {  // lose one idx_kind entry
    lmdb::Txn txn = lmdb::Txn::begin(*env_, lmdb::Txn::Mode::write);
    {
      lmdb::Cursor cursor(txn, lmdb::openDbi(txn, "idx_kind"));  // closed before the commit
      ASSERT_TRUE(cursor.first());
      cursor.del();
    }
    txn.commit();
  }
  const std::size_t kindEntries = dumpDb(*env_, "idx_kind").size();
  store_.reset();
  const MigrationResult result = migrateStore(*env_);
  EXPECT_EQ(result.eventsRewritten, stored);
  EXPECT_EQ(result.indexEntriesMissing, 1u);
  EXPECT_EQ(dumpDb(*env_, "idx_kind").size(), kindEntries);
}

}  // namespace
}  // namespace octolaunch
