// hook.block in the store: stored as one (compressed) event, read as its lines everywhere a
// query reads (docs/ingest-blocks.md).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "collector/store/event_purge.h"
#include "collector/store/event_value.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "shared/event/event_json.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch {
namespace {

using testing::BatchMessage;
using testing::EventSpec;

struct Row {
  std::uint64_t seq = 0;
  std::int64_t timeNs = 0;
  std::string kind;
  std::uint32_t part = 0;
  std::string line;
  bool operator==(const Row&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Row& r) {
  return out << "{seq " << r.seq << " t " << r.timeNs << " " << r.kind << " part " << r.part << " '"
             << r.line << "'}";
}

Row rowOf(schema::Event::Reader e) {
  Row r{e.getSeq(), e.getTimeNs(), std::string(kindName(e))};
  if (e.getPayload().isHookOutput()) {
    r.part = e.getPayload().getHookOutput().getPart();
    r.line = e.getPayload().getHookOutput().getLine().cStr();
  }
  return r;
}

class HookBlockStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), std::size_t{256} << 20));
    store_ = std::make_unique<LmdbEventStore>(*env_, clock_);
  }

  void commit(const std::vector<EventSpec>& specs) {
    BatchMessage m("agent-a", 7, specs);
    IngestBatch b = m.batch();
    auto results = store_->commitBatches({&b, 1});
    ASSERT_EQ(results.at(0).outcome, BatchResult::Outcome::committed);
  }

  std::vector<Row> each(const EventQuery& q) {
    std::vector<Row> out;
    store_->forEachEvent(q, [&](schema::Event::Reader e) {
      out.push_back(rowOf(e));
      return true;
    });
    return out;
  }

  // Every page of q (limit as given), following cursors.
  std::vector<Row> paged(EventQuery q) {
    std::vector<Row> out;
    for (int pages = 0; pages < 1000; ++pages) {
      EventPage page = store_->query(q);
      for (const StoredEvent& e : page.events)
        withEvent(e.bytes, [&](auto r) { out.push_back(rowOf(r)); });
      if (!page.nextCursor) return out;
      q.cursor = *page.nextCursor;
    }
    ADD_FAILURE() << "cursors did not end";
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> store_;
};

EventSpec block(std::uint64_t seq, std::int64_t timeNs, std::uint32_t lines,
                std::uint32_t stepNs = 10) {
  return {.seq = seq,
          .timeNs = timeNs,
          .release = "r1",
          .kind = "hook.block",
          .line = "migrating",
          .blockLines = lines,
          .blockStepNs = stepNs};
}

TEST_F(HookBlockStoreTest, ABlockIsReadAsItsLinesWithTheirOwnTimesAndParts) {
  commit({{.seq = 1, .timeNs = 1000, .release = "r1", .line = "single"},
          block(2, 2000, 3),
          {.seq = 3, .timeNs = 3000, .release = "r1", .kind = "hook.exit"}});
  const std::vector<Row> expected = {{1, 1000, "hook.output", 0, "single"},
                                     {2, 2000, "hook.output", 0, "migrating 1"},
                                     {2, 2010, "hook.output", 1, "migrating 2"},
                                     {2, 2020, "hook.output", 2, "migrating 3"},
                                     {3, 3000, "hook.exit", 0, ""}};
  EXPECT_EQ(each({}), expected);
  EXPECT_EQ(each({.release = "r1"}), expected);
  EXPECT_EQ(each({.kind = "hook.output"}),
            std::vector<Row>(expected.begin(), expected.begin() + 4));
  EXPECT_TRUE(each({.kind = "hook.block"}).empty());
  // The line carries the block's envelope, and the JSON names its part.
  store_->forEachEvent({.sinceNs = 2010, .untilNs = 2011}, [&](schema::Event::Reader e) {
    EXPECT_EQ(std::string(e.getAgentId().cStr()), "agent-a");
    EXPECT_EQ(e.getEpoch(), 7u);
    EXPECT_EQ(std::string(e.getHost().cStr()), "web-1");
    EXPECT_EQ(std::string(e.getService().cStr()), "api");
    EXPECT_EQ(e.getReceivedNs(), clock_.now);
    const auto json = eventJson(e);
    EXPECT_EQ(json["kind"], "hook.output");
    EXPECT_EQ(json["data"]["part"], 1);
    EXPECT_EQ(json["data"]["line_no"], 2);
    return true;
  });
  // Counts are of source records: a block counts its lines.
  ASSERT_EQ(store_->hosts().size(), 1u);
  EXPECT_EQ(store_->hosts()[0].eventsStored, 5u);
  EXPECT_EQ(store_->hosts()[0].lastSeq, 3u);
}

TEST_F(HookBlockStoreTest, PagesEndInsideABlockAndResumeThereInBothOrders) {
  commit({{.seq = 1, .timeNs = 1000, .release = "r1", .line = "before"},
          block(2, 2000, 10),
          {.seq = 3, .timeNs = 3000, .release = "r1", .line = "after"}});
  const std::vector<Row> all = each({});
  ASSERT_EQ(all.size(), 12u);
  for (std::size_t limit : {1, 3, 4, 11, 12, 50}) {
    EXPECT_EQ(paged({.limit = limit}), all) << "limit " << limit;
    EXPECT_EQ(paged({.release = "r1", .limit = limit}), all) << "limit " << limit;
    std::vector<Row> reversed(all.rbegin(), all.rend());
    EXPECT_EQ(paged({.limit = limit, .newestFirst = true}), reversed) << "limit " << limit;
    EXPECT_EQ(each({.newestFirst = true}), reversed);
  }
}

TEST_F(HookBlockStoreTest, TheTimeRangeAppliesToEachLine) {
  commit({{.seq = 1, .timeNs = 900, .release = "r1", .line = "early"},
          block(2, 1000, 10, 100)});  // lines at 1000, 1100, ..., 1900
  auto times = [](const std::vector<Row>& rows) {
    std::vector<std::int64_t> t;
    for (const Row& r : rows) t.push_back(r.timeNs);
    return t;
  };
  const std::vector<std::int64_t> middle = {1500, 1600, 1700};
  EXPECT_EQ(times(each({.sinceNs = 1450, .untilNs = 1750})), middle);
  EXPECT_EQ(times(each({.release = "r1", .sinceNs = 1450, .untilNs = 1750})), middle);
  EXPECT_EQ(times(each({.host = "web-1", .sinceNs = 1450, .untilNs = 1750})), middle);
  EXPECT_EQ(times(paged({.sinceNs = 1450, .untilNs = 1750, .limit = 2})), middle);
  EXPECT_EQ(times(paged({.sinceNs = 1450, .untilNs = 1750, .limit = 2, .newestFirst = true})),
            (std::vector<std::int64_t>{1700, 1600, 1500}));
  EXPECT_EQ(times(each({.untilNs = 1000})), (std::vector<std::int64_t>{900}));
}

TEST_F(HookBlockStoreTest, AStdoutBlockSkippedByItsTagsStillPlacesItsFirstAndLastLine) {
  EventSpec mixed = block(3, 5000, 4, 100);
  mixed.stderrEvery = 4;
  commit({block(1, 1000, 10, 100),
          {.seq = 2, .timeNs = 3000, .release = "r1", .kind = "hook.exit"},
          mixed});
  std::vector<std::int64_t> skipped;
  std::vector<Row> read;
  EventQuery q{.release = "r1", .skipHookStdout = true};
  q.onSkippedHookStdout = [&](std::int64_t t, std::string_view host) {
    EXPECT_EQ(host, "web-1");
    skipped.push_back(t);
  };
  store_->forEachEvent(q, [&](schema::Event::Reader e) {
    read.push_back(rowOf(e));
    return true;
  });
  EXPECT_EQ(skipped, (std::vector<std::int64_t>{1000, 1900}));
  // The block with a stderr line is read, all of it.
  ASSERT_EQ(read.size(), 5u);
  EXPECT_EQ(read[0].kind, "hook.exit");
  EXPECT_EQ(read[4], (Row{3, 5300, "hook.output", 3, "migrating 4"}));
}

TEST_F(HookBlockStoreTest, ALargeBlockIsStoredCompressedAndReadBack) {
  commit({block(1, 1000, 2000)});
  lmdb::Txn txn = lmdb::Txn::begin(*env_, lmdb::Txn::Mode::read);
  lmdb::Cursor cursor(txn, lmdb::openDbi(txn, "events"));
  ASSERT_TRUE(cursor.first());
  const std::string_view value = cursor.value();
  ASSERT_FALSE(value.empty());
  EXPECT_EQ(value[0], kZstdTag);
  EventValueCodec codec;
  const std::size_t packedSize = codec.decode(value).size();
  EXPECT_LT(value.size() * 2, packedSize) << "compressed " << value.size() << " of " << packedSize;
  const std::vector<Row> rows = each({});
  ASSERT_EQ(rows.size(), 2000u);
  EXPECT_EQ(rows[1999], (Row{1, 1000 + 1999 * 10, "hook.output", 1999, "migrating 2000"}));
}

TEST_F(HookBlockStoreTest, ADamagedCompressedValueIsAnErrorThatSaysSo) {
  EventValueCodec codec;
  const std::string packed(4096, 'x');
  std::string value(codec.encode(packed));
  ASSERT_EQ(value[0], kZstdTag);
  EXPECT_EQ(codec.decode(value), packed);
  value.resize(value.size() / 2);
  try {
    codec.decode(value);
    FAIL() << "a truncated frame decoded";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreError::Kind::io);
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  EXPECT_THROW(codec.decode(std::string(1, kZstdTag) + "not zstd"), StoreError);
  // Small values are stored as they are.
  EXPECT_EQ(codec.encode("short"), "short");
}

TEST_F(HookBlockStoreTest, PurgeMasksLinesInsideABlock) {
  EventSpec secret = block(1, 1000, 3);
  secret.line = "token=hunter2";
  commit({secret});
  const re2::RE2 re("hunter2");
  auto step = store_->rewriteRelease("r1", "", 10,
                                     [&](schema::Event::Reader e) { return maskedEvent(e, re); });
  EXPECT_EQ(step.rewritten, 1u);
  const std::vector<Row> rows = each({});
  ASSERT_EQ(rows.size(), 3u);
  for (const Row& r : rows) EXPECT_EQ(r.line.substr(0, 9), "token=***") << r;
}

}  // namespace
}  // namespace octolaunch
