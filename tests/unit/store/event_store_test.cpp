#include <gtest/gtest.h>

#include <set>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_env.h"
#include "shared/event/event_json.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch {
namespace {

using testing::BatchMessage;
using testing::EventSpec;
using testing::outputLines;

// Ten events whose arrival order differs from their time order, with releases (r1, r2), hosts
// (web-1, web-2) and kinds interleaved: times 100..1000, r1 at 300, 500, 800, 1000.
std::vector<EventSpec> interleavedEvents() {
  std::vector<EventSpec> specs;
  const std::int64_t times[] = {500, 100, 900, 300, 700, 200, 800, 400, 600, 1000};
  for (std::uint64_t i = 0; i < 10; ++i) {
    specs.push_back({.seq = i + 1,
                     .timeNs = times[i],
                     .host = i % 2 ? "web-2" : "web-1",
                     .release = i % 3 == 0 ? "r1" : "r2",
                     .kind = i == 4 ? "hook.exit" : "hook.output"});
  }
  return specs;
}

// The times of (seq, timeNs) rows.
std::vector<std::int64_t> timesOf(const std::vector<std::pair<std::uint64_t, std::int64_t>>& rows) {
  std::vector<std::int64_t> t;
  for (const auto& r : rows) t.push_back(r.second);
  return t;
}

class EventStoreTest : public ::testing::Test {
 protected:
  void open(std::size_t mapSize = std::size_t{64} << 20) {
    store_.reset();
    env_.reset();
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), mapSize));
    store_ = std::make_unique<LmdbEventStore>(*env_, clock_);
  }
  void SetUp() override { open(); }

  std::vector<BatchResult> commit(BatchMessage& m,
                                  std::optional<std::uint64_t> previousSeq = std::nullopt,
                                  std::span<const QuarantineNote> quarantine = {}) {
    IngestBatch b = m.batch();
    b.host = {};  // these events name hosts of their own: keep them (an agent's session has one)
    b.previousSeq = previousSeq;
    b.quarantine = quarantine;
    return store_->commitBatches({&b, 1});
  }

  // (seq, timeNs) of every event a query returns, following cursors to the end.
  std::vector<std::pair<std::uint64_t, std::int64_t>> all(EventQuery q) {
    std::vector<std::pair<std::uint64_t, std::int64_t>> out;
    for (;;) {
      EventPage page = store_->query(q);
      for (const StoredEvent& e : page.events) {
        withEvent(e.bytes,
                  [&](schema::Event::Reader r) { out.emplace_back(r.getSeq(), r.getTimeNs()); });
      }
      if (!page.nextCursor) return out;
      q.cursor = *page.nextCursor;
    }
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> store_;
};

TEST_F(EventStoreTest, IndexesReturnTheirEventsInTimeOrder) {
  BatchMessage m("agent-a", 7, interleavedEvents());
  commit(m);
  auto times_of = timesOf;
  EXPECT_EQ(times_of(all({.limit = 100})),
            (std::vector<std::int64_t>{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}));
  EXPECT_EQ(times_of(all({.release = "r1"})), (std::vector<std::int64_t>{300, 500, 800, 1000}));
  EXPECT_EQ(times_of(all({.host = "web-2"})),
            (std::vector<std::int64_t>{100, 200, 300, 400, 1000}));
  EXPECT_EQ(times_of(all({.kind = "hook.exit"})), (std::vector<std::int64_t>{700}));
  EXPECT_EQ(times_of(all({.release = "r2", .host = "web-1"})),
            (std::vector<std::int64_t>{600, 700, 900}));
  EXPECT_EQ(times_of(all({.release = "r2", .host = "web-1", .kind = "hook.output"})),
            (std::vector<std::int64_t>{600, 900}));
  // since inclusive, until exclusive, on every index.
  EXPECT_EQ(times_of(all({.sinceNs = 300, .untilNs = 800})),
            (std::vector<std::int64_t>{300, 400, 500, 600, 700}));
  EXPECT_EQ(times_of(all({.release = "r1", .sinceNs = 300, .untilNs = 1000})),
            (std::vector<std::int64_t>{300, 500, 800}));
  EXPECT_EQ(times_of(all({.host = "web-1", .sinceNs = 550})),
            (std::vector<std::int64_t>{600, 700, 800, 900}));
  EXPECT_TRUE(all({.release = "r9"}).empty());
  EXPECT_TRUE(all({.release = "r"}).empty());  // a prefix of "r1" matches nothing
  EXPECT_TRUE(all({.kind = "oom.kill"}).empty());
}

TEST_F(EventStoreTest, ReceivedTimeIsTheStoresClock) {
  clock_.now = 42'000;
  BatchMessage m("agent-a", 1, outputLines(1, 1));
  commit(m);
  int seen = 0;
  store_->forEachEvent({}, [&](schema::Event::Reader e) {
    EXPECT_EQ(e.getReceivedNs(), 42'000);
    EXPECT_EQ(std::string(e.getPayload().getHookOutput().getLine().cStr()), "line 1");
    ++seen;
    return true;
  });
  EXPECT_EQ(seen, 1);
}

TEST_F(EventStoreTest, ClockSampleWithTheLeastRoundTripOfRecentOnesIsKept) {
  auto push = [&](std::uint64_t seq, std::int64_t offsetMs, std::int64_t roundTripMs) {
    BatchMessage m("agent-a", 1, outputLines(seq, seq));
    IngestBatch b = m.batch();
    b.clock = ClockSample{offsetMs * 1'000'000, roundTripMs * 1'000'000, 0};
    store_->commitBatches({&b, 1});
    return store_->hosts().at(0).clock;
  };
  auto c = push(1, -3000, 40);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offsetNs, -3'000'000'000);
  EXPECT_EQ(c->roundTripNs, 40'000'000);
  EXPECT_EQ(c->receivedNs, clock_.now);
  // A noisier sample a minute later does not replace the better one; a better one does.
  clock_.now += 60'000'000'000;
  EXPECT_EQ(push(2, -2500, 900)->offsetNs, -3'000'000'000);
  EXPECT_EQ(push(3, -2990, 10)->roundTripNs, 10'000'000);
  // Once the kept sample is older than kClockSampleKeepNs, the latest one counts.
  clock_.now += kClockSampleKeepNs;
  c = push(4, 1200, 300);
  EXPECT_EQ(c->offsetNs, 1'200'000'000);
  EXPECT_EQ(c->receivedNs, clock_.now);
  // A batch refused for a gap keeps nothing.
  BatchMessage gap("agent-a", 1, outputLines(9, 9));
  IngestBatch g = gap.batch();
  g.clock = ClockSample{5, 1, 0};
  clock_.now += kClockSampleKeepNs;
  EXPECT_EQ(store_->commitBatches({&g, 1})[0].outcome, BatchResult::Outcome::gap);
  EXPECT_EQ(store_->hosts().at(0).clock->offsetNs, 1'200'000'000);
  // It survives reopening.
  open();
  EXPECT_EQ(store_->hosts().at(0).clock->roundTripNs, 300'000'000);
}

TEST_F(EventStoreTest, RedeliveredSeqsAreSkipped) {
  BatchMessage first("agent-a", 7, outputLines(1, 10));
  auto r1 = commit(first);
  EXPECT_EQ(r1[0].committedThroughSeq, 10u);
  EXPECT_EQ(r1[0].stored, 10u);

  BatchMessage overlap("agent-a", 7, outputLines(5, 15));
  auto r2 = commit(overlap);
  EXPECT_EQ(r2[0].committedThroughSeq, 15u);
  EXPECT_EQ(r2[0].stored, 5u);
  EXPECT_EQ(r2[0].skipped, 6u);  // seqs 5..10

  BatchMessage again("agent-a", 7, outputLines(1, 15));
  auto r3 = commit(again);
  EXPECT_EQ(r3[0].committedThroughSeq, 15u);
  EXPECT_EQ(r3[0].stored, 0u);

  auto rows = all({.release = "r1", .limit = 7});
  ASSERT_EQ(rows.size(), 15u);
  std::set<std::uint64_t> seqs;
  for (auto& r : rows) seqs.insert(r.first);
  EXPECT_EQ(seqs.size(), 15u);
  EXPECT_EQ(store_->highWater("agent-a", 7), 15u);
  auto hosts = store_->hosts();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].eventsStored, 15u);
  EXPECT_EQ(hosts[0].lastSeq, 15u);
}

TEST_F(EventStoreTest, NewEpochOfTheSameAgentIsStored) {
  BatchMessage old("agent-a", 1, outputLines(1, 20));
  commit(old);
  BatchMessage reinstalled("agent-a", 2, outputLines(1, 5));
  auto r = commit(reinstalled);
  EXPECT_EQ(r[0].stored, 5u);
  EXPECT_EQ(r[0].committedThroughSeq, 5u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 20u);
  EXPECT_EQ(store_->highWater("agent-a", 2), 5u);
  EXPECT_EQ(store_->highWater("agent-b", 2), 0u);
  EXPECT_EQ(all({}).size(), 25u);
  auto hosts = store_->hosts();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].epoch, 2u);
  EXPECT_EQ(hosts[0].lastSeq, 5u);
  EXPECT_EQ(hosts[0].eventsStored, 5u);
}

TEST_F(EventStoreTest, BatchesOfSeveralAgentsCommitTogetherOrNotAtAll) {
  BatchMessage a("agent-a", 1, outputLines(1, 3), "web-1");
  BatchMessage b("agent-b", 9, outputLines(1, 4, "r2"), "web-2");
  IngestBatch batches[] = {a.batch(), b.batch()};
  auto results = store_->commitBatches(batches);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].committedThroughSeq, 3u);
  EXPECT_EQ(results[1].committedThroughSeq, 4u);
  EXPECT_EQ(all({.release = "r2"}).size(), 4u);
  auto hosts = store_->hosts();
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[1].agentId, "agent-b");
  EXPECT_EQ(hosts[1].host, "web-2");

  // One bad batch aborts the whole transaction: the good one is not stored either.
  BatchMessage good("agent-a", 1, outputLines(4, 6));
  BatchMessage bad("agent-c", 1, {{.seq = 2, .timeNs = 1}, {.seq = 1, .timeNs = 2}});
  IngestBatch mixed[] = {good.batch(), bad.batch()};
  EXPECT_THROW(store_->commitBatches(mixed), std::invalid_argument);
  EXPECT_EQ(store_->highWater("agent-a", 1), 3u);
  EXPECT_EQ(all({}).size(), 7u);
}

TEST_F(EventStoreTest, FullMapIsAnErrorThatNoLaterBatchPassesAndTheStoreLivesOn) {
  open(std::size_t{1} << 20);  // 1 MiB map
  BatchMessage small("agent-a", 1, outputLines(1, 100));
  commit(small);
  std::vector<EventSpec> big = outputLines(101, 20'100);
  for (auto& s : big) s.line = std::string(200, 'x');
  BatchMessage huge("agent-a", 1, big);
  try {
    commit(huge);
    FAIL() << "a 4 MB batch fit a 1 MiB map";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreError::Kind::full);
    EXPECT_NE(std::string(e.what()).find("full"), std::string::npos) << e.what();
  }
  // Nothing of the failed batch, everything from before; reads and small writes still work.
  EXPECT_EQ(store_->highWater("agent-a", 1), 100u);
  // The agent's next push continues from the failed one: refused, so the mark cannot pass it.
  BatchMessage after("agent-a", 1, outputLines(20'101, 20'110));
  EXPECT_EQ(commit(after, 20'100)[0].outcome, BatchResult::Outcome::gap);
  EXPECT_EQ(store_->highWater("agent-a", 1), 100u);
  EXPECT_EQ(all({}).size(), 100u);
  BatchMessage next("agent-a", 1, outputLines(101, 110));
  EXPECT_EQ(commit(next)[0].committedThroughSeq, 110u);
  EXPECT_EQ(all({.release = "r1"}).size(), 110u);
}

TEST_F(EventStoreTest, ABatchThatDoesNotContinueFromTheMarkIsRefusedWhole) {
  BatchMessage first("agent-a", 1, outputLines(1, 10));
  commit(first);
  // 11..20 never arrived (its push failed): 21..30 must not move the mark past it.
  BatchMessage later("agent-a", 1, outputLines(21, 30));
  auto r = commit(later);
  EXPECT_EQ(r[0].outcome, BatchResult::Outcome::gap);
  EXPECT_EQ(r[0].committedThroughSeq, 10u);
  EXPECT_EQ(r[0].stored, 0u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 10u);
  EXPECT_EQ(all({}).size(), 10u);
  // The same with the agent saying so (previousSeq 20 > mark 10).
  EXPECT_EQ(commit(later, 20)[0].outcome, BatchResult::Outcome::gap);

  // The missing batch, then the later one: both stored, in order, nothing twice.
  BatchMessage missing("agent-a", 1, outputLines(11, 20));
  EXPECT_EQ(commit(missing, 10)[0].committedThroughSeq, 20u);
  r = commit(later, 20);
  EXPECT_EQ(r[0].outcome, BatchResult::Outcome::committed);
  EXPECT_EQ(r[0].committedThroughSeq, 30u);
  EXPECT_EQ(all({}).size(), 30u);

  // An agent that declares seqs absent (previousSeq <= mark, first seq beyond mark + 1) is taken.
  BatchMessage afterHole("agent-a", 1, outputLines(41, 45));
  EXPECT_EQ(commit(afterHole, 30)[0].committedThroughSeq, 45u);

  // A refused batch in a group does not fail the others, nor does it write anything.
  BatchMessage gapped("agent-a", 1, outputLines(60, 61));
  BatchMessage other("agent-b", 1, outputLines(1, 3));
  IngestBatch group[] = {gapped.batch(), other.batch()};
  auto results = store_->commitBatches(group);
  EXPECT_EQ(results[0].outcome, BatchResult::Outcome::gap);
  EXPECT_EQ(results[0].committedThroughSeq, 45u);
  EXPECT_EQ(results[1].committedThroughSeq, 3u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 45u);
}

TEST_F(EventStoreTest, QuarantinedEventsAreKeptAsReceivedAndAdvanceTheMark) {
  std::vector<EventSpec> specs = outputLines(1, 5);
  specs[2].release = std::string(300, 'r');  // seq 3
  BatchMessage batch("agent-a", 1, specs);
  const QuarantineNote notes[] = {{2, "release is longer than 256 bytes"}};
  auto r = commit(batch, std::nullopt, notes);
  EXPECT_EQ(r[0].stored, 4u);
  EXPECT_EQ(r[0].quarantined, 1u);
  EXPECT_EQ(r[0].committedThroughSeq, 5u);

  std::set<std::uint64_t> seqs;
  for (auto& row : all({})) seqs.insert(row.first);
  EXPECT_EQ(seqs, (std::set<std::uint64_t>{1, 2, 4, 5}));
  EXPECT_EQ(store_->hosts()[0].eventsStored, 4u);
  EXPECT_EQ(store_->quarantinedCount(), 1u);
  auto kept = store_->quarantined(10);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].agentId, "agent-a");
  EXPECT_EQ(kept[0].epoch, 1u);
  EXPECT_EQ(kept[0].seq, 3u);
  EXPECT_EQ(kept[0].reason, "release is longer than 256 bytes");
  EXPECT_EQ(kept[0].receivedNs, clock_.now);
  withEvent(kept[0].bytes, [](schema::Event::Reader e) {
    EXPECT_EQ(e.getSeq(), 3u);
    EXPECT_EQ(e.getRelease().size(), 300u);
    EXPECT_EQ(e.getReceivedNs(), 0);  // as received
  });

  // Redelivered: neither stored nor quarantined again.
  r = commit(batch, std::nullopt, notes);
  EXPECT_EQ(r[0].skipped, 5u);
  EXPECT_EQ(r[0].quarantined, 0u);
  EXPECT_EQ(store_->quarantinedCount(), 1u);
}

TEST_F(EventStoreTest, PaginationReturnsEveryEventExactlyOnce) {
  // Many events share a timeNs: the cursor must break ties by id.
  std::vector<EventSpec> specs;
  for (std::uint64_t s = 1; s <= 250; ++s) {
    specs.push_back({.seq = s, .timeNs = static_cast<std::int64_t>(s / 10), .release = "r1"});
  }
  BatchMessage m("agent-a", 1, specs);
  commit(m);
  for (std::size_t limit : {1u, 7u, 100u, 250u, 1000u}) {
    EventQuery q{.release = "r1", .limit = limit};
    std::vector<std::uint64_t> seqs;
    int pages = 0;
    for (;;) {
      EventPage page = store_->query(q);
      ++pages;
      for (auto& e : page.events) {
        withEvent(e.bytes, [&](schema::Event::Reader r) { seqs.push_back(r.getSeq()); });
      }
      if (!page.nextCursor) break;
      q.cursor = *page.nextCursor;
    }
    ASSERT_EQ(seqs.size(), 250u) << "limit " << limit;
    for (std::uint64_t i = 0; i < 250; ++i) EXPECT_EQ(seqs[i], i + 1);
    EXPECT_EQ(pages, static_cast<int>((250 + limit - 1) / limit)) << "limit " << limit;
  }
}

TEST_F(EventStoreTest, NewestFirstIsTheReverseOrderOnEveryIndexAndPagesEveryEventOnce) {
  std::vector<EventSpec> specs = interleavedEvents();
  // Many events of one time after them: ties must page by id, backwards.
  for (std::uint64_t s = 11; s <= 60; ++s) {
    specs.push_back({.seq = s, .timeNs = 2000, .host = "web-3", .release = "r3"});
  }
  BatchMessage m("agent-a", 7, specs);
  commit(m);
  auto times_of = timesOf;
  EXPECT_EQ(times_of(all({.release = "r1", .newestFirst = true})),
            (std::vector<std::int64_t>{1000, 800, 500, 300}));
  EXPECT_EQ(times_of(all({.host = "web-2", .sinceNs = 200, .untilNs = 1000, .newestFirst = true})),
            (std::vector<std::int64_t>{400, 300, 200}));
  EXPECT_EQ(times_of(all({.sinceNs = 300, .untilNs = 800, .limit = 2, .newestFirst = true})),
            (std::vector<std::int64_t>{700, 600, 500, 400, 300}));
  EXPECT_TRUE(all({.release = "r", .newestFirst = true}).empty());
  for (std::size_t limit : {1u, 7u, 100u}) {
    std::vector<std::uint64_t> seqs;
    for (auto& [seq, time] : all({.host = "web-3", .limit = limit, .newestFirst = true})) {
      seqs.push_back(seq);
    }
    std::vector<std::uint64_t> expected;
    for (std::uint64_t s = 60; s >= 11; --s) expected.push_back(s);
    EXPECT_EQ(seqs, expected) << "limit " << limit;
  }
  // The newest event of all, with no filter: the last key of the time index.
  EventPage newest = store_->query({.limit = 1, .newestFirst = true});
  ASSERT_EQ(newest.events.size(), 1u);
  withEvent(newest.events[0].bytes, [](schema::Event::Reader r) { EXPECT_EQ(r.getSeq(), 60u); });
}

TEST_F(EventStoreTest, ForeignCursorIsRejected) {
  for (std::string bad : std::vector<std::string>{"x", "p0123", "pzz000000000000000000000000000000",
                                                  "p" + std::string(32, 'G')}) {
    try {
      store_->query({.cursor = bad});
      FAIL() << bad;
    } catch (const StoreError& e) {
      EXPECT_EQ(e.kind(), StoreError::Kind::badCursor);
    }
  }
}

TEST_F(EventStoreTest, ForEachEventStopsWhenAsked) {
  BatchMessage m("agent-a", 1, outputLines(1, 50));
  commit(m);
  int visited = 0;
  store_->forEachEvent({.release = "r1", .sinceNs = 1'000'000'000 + 10'000},
                       [&](schema::Event::Reader e) {
                         EXPECT_EQ(e.getSeq(), static_cast<std::uint64_t>(10 + visited));
                         return ++visited < 5;
                       });
  EXPECT_EQ(visited, 5);
}

TEST_F(EventStoreTest, DataAndIdsSurviveReopening) {
  BatchMessage m("agent-a", 1, outputLines(1, 10));
  commit(m);
  open();
  EXPECT_EQ(store_->highWater("agent-a", 1), 10u);
  BatchMessage more("agent-a", 1, outputLines(11, 20));
  commit(more);
  auto rows = all({.limit = 3});
  ASSERT_EQ(rows.size(), 20u);
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_EQ(rows[i].first, i + 1);
}

TEST_F(EventStoreTest, ReleasesAreJsonDocumentsById) {
  LmdbReleaseStore releases(*env_);
  EXPECT_FALSE(releases.get("r1"));
  releases.put("r2", {{"id", "r2"}, {"service", "api"}});
  releases.put("r1", {{"id", "r1"}, {"service", "web"}});
  auto merged = releases.modify("r1", [](const std::optional<nlohmann::json>& cur) {
    nlohmann::json doc = *cur;
    doc["version"] = "1.2";
    return doc;
  });
  EXPECT_EQ(merged["version"], "1.2");
  EXPECT_EQ((*releases.get("r1"))["service"], "web");
  auto list = releases.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], "r1");
  EXPECT_EQ(list[1]["id"], "r2");
}

TEST_F(EventStoreTest, PreviousReleasesOfAServiceNewestFirstFromTheIndex) {
  {
    LmdbReleaseStore releases(*env_);
    releases.put("api-1", {{"id", "api-1"}, {"service", "api"}, {"created_ns", 100}});
    releases.put(
        "api-3",
        {{"id", "api-3"}, {"service", "api"}, {"created_ns", 300}, {"environment", "prod"}});
    releases.put(
        "api-2",
        {{"id", "api-2"}, {"service", "api"}, {"created_ns", 200}, {"environment", "prod"}});
    releases.put("web-1", {{"id", "web-1"}, {"service", "web"}, {"created_ns", 150}});
    releases.put("ap-1", {{"id", "ap-1"}, {"service", "ap"}, {"created_ns", 250}});
    EXPECT_EQ(releases.previousOfService("api", "", 300, 10),
              (std::vector<std::string>{"api-2", "api-1"}));
    EXPECT_EQ(releases.previousOfService("api", "", 1000, 2),
              (std::vector<std::string>{"api-3", "api-2"}));
    EXPECT_EQ(releases.previousOfService("api", "prod", 1000, 10),
              (std::vector<std::string>{"api-3", "api-2"}));
    EXPECT_TRUE(releases.previousOfService("api", "", 100, 10).empty());
    EXPECT_TRUE(releases.previousOfService("db", "", 1000, 10).empty());
    // Re-registering with another time moves the entry (no stale key left behind).
    releases.modify("api-1", [](const std::optional<nlohmann::json>& cur) {
      nlohmann::json doc = *cur;
      doc["created_ns"] = 400;
      return doc;
    });
    EXPECT_EQ(releases.previousOfService("api", "", 1000, 10),
              (std::vector<std::string>{"api-1", "api-3", "api-2"}));
  }
  // A store whose index is missing (written before it existed) gets it rebuilt on open.
  {
    lmdb::Txn txn = lmdb::Txn::begin(*env_, lmdb::Txn::Mode::write);
    MDB_dbi index = lmdb::openDbi(txn, "releases_by_service");
    lmdb::check(mdb_drop(txn.get(), index, 0), "emptying the index");
    txn.commit();
  }
  LmdbReleaseStore reopened(*env_);
  EXPECT_EQ(reopened.previousOfService("api", "", 1000, 10),
            (std::vector<std::string>{"api-1", "api-3", "api-2"}));
}

}  // namespace
}  // namespace octolaunch
