// `octolaunch-collector backup` and `restore`, the real binaries: backups taken while a real agent
// drains its spool into the real collector hold every event acknowledged before the copy began,
// byte for byte, nothing the collector did not store, and marks that match their events; a
// compacted copy leaves out free pages; restore puts a backup in place (a collector serves it)
// and refuses what would lose or misread data.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>

#include "agent/spool/spool.h"
#include "collector/store/event_store.h"
#include "collector/store/event_value.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/harness.h"
#include "tests/support/store_layouts.h"

namespace octolaunch {
namespace {

using namespace std::chrono_literals;
using testing::BatchMessage;
using testing::DbDump;

namespace fs = std::filesystem;

constexpr std::size_t kMapSize = std::size_t{1} << 30;

// A database read in one read transaction: never waits for (or stalls) a writer.
DbDump snapshotOf(lmdb::Env& env, const char* name) {
  DbDump out;
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
  MDB_dbi dbi = 0;
  if (mdb_dbi_open(txn.get(), name, 0, &dbi) != 0) return out;
  lmdb::Cursor cursor(txn, dbi);
  for (bool ok = cursor.first(); ok; ok = cursor.next()) {
    out.emplace(std::string(cursor.key()), std::string(cursor.value()));
  }
  return out;
}

// Every named database of the store, read in one read transaction each.
std::map<std::string, DbDump> wholeStore(lmdb::Env& env) {
  std::map<std::string, DbDump> out;
  for (const auto& [name, unused] : snapshotOf(env, nullptr)) {
    out[name] = snapshotOf(env, name.c_str());
  }
  return out;
}

// The highest seq acknowledged for the agent (any epoch): its mark.
std::uint64_t markOf(lmdb::Env& env) {
  std::uint64_t seq = 0;
  for (const auto& [key, value] : snapshotOf(env, "marks")) {
    seq = std::max(seq, lmdb::readBigEndian(value));
  }
  return seq;
}

std::uint64_t freePageEntries(lmdb::Env& env) {
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
  return lmdb::entriesIn(txn, 0);  // FREE_DBI
}

std::string fileText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The copy's marks against its events: per (agent, epoch), the stored events' seqs are exactly
// 1..lastSeq and `stored` counts them.
void expectMarksMatchEvents(const std::map<std::string, DbDump>& store, const std::string& what) {
  std::map<std::string, std::set<std::uint64_t>> seqs;  // markKey -> seqs
  for (const auto& [key, value] : store.at("events")) {
    const std::string_view packed = EventValueCodec::forThisThread().decode(value);
    withEvent(packed, [&](schema::Event::Reader e) {
      std::string mark = std::string(e.getAgentId().cStr()) + '\0' + lmdb::bigEndian(e.getEpoch());
      seqs[mark].insert(e.getSeq());
    });
  }
  const DbDump& marks = store.at("marks");
  EXPECT_EQ(marks.size(), seqs.size()) << what;
  for (const auto& [mark, value] : marks) {
    const std::uint64_t lastSeq = lmdb::readBigEndian(value);
    const std::uint64_t stored = lmdb::readBigEndian(std::string_view(value).substr(8));
    const std::set<std::uint64_t>& have = seqs[mark];
    EXPECT_EQ(have.size(), lastSeq) << what << ": events missing up to the mark, or above it";
    EXPECT_EQ(have.empty() ? 0 : *have.rbegin(), lastSeq) << what;
    EXPECT_EQ(have.empty() ? 0 : *have.begin(), 1u) << what;
    EXPECT_EQ(stored, have.size()) << what;
  }
}

class StoreBackupE2eTest : public ::testing::Test {
 protected:
  std::vector<std::string> collectorArgs(std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::binPath("octolaunch-collector"), "--config",
                                     "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  testing::RunResult backup(const fs::path& from, const fs::path& to, bool compact = false) {
    std::vector<std::string> args = {"backup", "--data-dir", from.string(), "--to", to.string()};
    if (compact) args.push_back("--compact");
    return testing::run(collectorArgs(args), 300s);
  }
  testing::RunResult restore(const fs::path& from, const fs::path& to, bool replace = false) {
    std::vector<std::string> args = {"restore", "--from", from.string(), "--data-dir", to.string()};
    if (replace) args.push_back("--replace");
    return testing::run(collectorArgs(args), 300s);
  }

  // `count` events of one agent written in-process (releases r1 and r2), committed in batches.
  void fillStore(const fs::path& dir, std::uint64_t count) {
    lmdb::Env env = openCollectorEnv(dir, kMapSize);
    testing::FakeClock clock;
    LmdbEventStore store(env, clock);
    for (std::uint64_t first = 1; first <= count; first += 1000) {
      std::vector<testing::EventSpec> specs;
      for (std::uint64_t seq = first; seq < first + 1000 && seq <= count; ++seq) {
        specs.push_back({.seq = seq,
                         .timeNs = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq),
                         .release = seq % 2 == 0 ? "r2" : "r1",
                         .line = "output line " + std::to_string(seq)});
      }
      BatchMessage m("agent-b", 7, specs);
      IngestBatch b = m.batch();
      ASSERT_EQ(store.commitBatches({&b, 1}).at(0).outcome, BatchResult::Outcome::committed);
    }
  }

  testing::TempDir dir_;
};

TEST_F(StoreBackupE2eTest, BackupsUnderIngestHoldExactlyTheEventsAcknowledgedBeforeTheyBegan) {
  constexpr std::uint64_t kEvents = 150'000;
  {
    auto spool = agent::Spool::open({dir_.path() / "spool", std::uint64_t{512} << 20});
    for (std::uint64_t first = 1; first <= kEvents; first += 5000) {
      BatchMessage recorded("", 0, testing::outputLines(first, first + 4999, "r-hot"));
      std::vector<schema::Event::Reader> events;
      for (auto e : recorded.batch().events) events.push_back(e);
      ASSERT_EQ(spool->append(events), events.size());
    }
  }
  std::ofstream(dir_.path() / "agent.toml") << "[sources]\nenabled = false\n";
  testing::CollectorProcess collector({.dataDir = dir_.path() / "collector"});
  collector.start();
  lmdb::Env source = openCollectorEnv(dir_.path() / "collector", kMapSize);
  std::vector<std::string> agentArgv = {testing::binPath("octolaunch-agent"), "run"};
  for (std::string f :
       testing::agentFlags(dir_.path() / "spool", "agent-hot", "web-1", collector.rpcAddress())) {
    agentArgv.push_back(f);
  }
  agentArgv[3] = (dir_.path() / "agent.toml").string();  // --config
  testing::Process agent({.argv = agentArgv, .captureStdout = false});
  ASSERT_TRUE(testing::waitUntil([&] { return markOf(source) >= 2000; }, 60s))
      << "the agent delivers nothing";

  // Three backups, one after the other, while the agent goes on delivering.
  struct Taken {
    fs::path path;
    DbDump acknowledged;  // the events committed before the backup started
    std::uint64_t markBefore = 0;
    std::uint64_t markAfter = 0;
  };
  std::vector<Taken> taken;
  for (int i = 0; i < 3; ++i) {
    Taken t{.path = dir_.path() / ("backup-" + std::to_string(i))};
    t.markBefore = markOf(source);
    t.acknowledged = snapshotOf(source, "events");
    testing::RunResult r = backup(dir_.path() / "collector", t.path, /*compact=*/i == 1);
    t.markAfter = markOf(source);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("backup in " + t.path.string() + ": "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" events, snapshot of transaction "), std::string::npos) << r.out;
    taken.push_back(std::move(t));
  }
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos)
        << entry.path() << " left behind";
  }
  // The premise: the collector was ingesting before and after every backup.
  for (const Taken& t : taken) EXPECT_LT(t.markAfter, kEvents) << "ingest finished too early";
  EXPECT_GT(taken.back().markBefore, taken.front().markBefore) << "no ingest between backups";

  ASSERT_TRUE(testing::waitUntil([&] { return markOf(source) == kEvents; }, 300s));
  agent.signal(SIGTERM);
  agent.wait(30s);
  EXPECT_EQ(collector.stop(), 0);
  const DbDump everything = snapshotOf(source, "events");

  for (const Taken& t : taken) {
    const std::string what = t.path.filename().string();
    // Only data.mdb: no lock file, nothing half-written beside it.
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(t.path)) {
      files.insert(entry.path().filename().string());
    }
    EXPECT_EQ(files, std::set<std::string>{"data.mdb"}) << what;
    EXPECT_EQ(fs::status(t.path / "data.mdb").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read)
        << what;
    std::map<std::string, DbDump> copy;
    {
      lmdb::Env env = openCollectorEnv(t.path, kMapSize);
      copy = wholeStore(env);
    }
    const DbDump& events = copy.at("events");
    for (const auto& [key, value] : t.acknowledged) {
      auto it = events.find(key);
      ASSERT_NE(it, events.end()) << what << ": an event acknowledged before the backup is missing";
      ASSERT_EQ(it->second, value) << what;
    }
    for (const auto& [key, value] : events) {
      auto it = everything.find(key);
      ASSERT_NE(it, everything.end()) << what << ": an event the collector never stored";
      ASSERT_EQ(it->second, value) << what;
    }
    EXPECT_LT(events.size(), everything.size()) << what << ": taken before ingest ended";
    std::cout << what << ": " << t.acknowledged.size() << " events acknowledged before it began, "
              << events.size() << " in the copy, of " << everything.size() << "; marks "
              << t.markBefore << " before, " << t.markAfter << " after" << std::endl;
    expectMarksMatchEvents(copy, what);
    EXPECT_GE(lmdb::readBigEndian(copy.at("marks").begin()->second), t.markBefore) << what;
    EXPECT_LE(lmdb::readBigEndian(copy.at("marks").begin()->second), t.markAfter) << what;
  }
  // The source itself, for good measure: every event delivered once.
  std::map<std::string, DbDump> all = wholeStore(source);
  expectMarksMatchEvents(all, "source");

  // A collector started on a copy serves what it holds.
  const std::size_t inFirstCopy = [&] {
    lmdb::Env env = openCollectorEnv(taken.front().path, kMapSize);
    return snapshotOf(env, "events").size();
  }();
  testing::CollectorProcess onCopy({.dataDir = taken.front().path});
  onCopy.start();
  EXPECT_EQ(testing::allEvents(onCopy.httpPort(), "release=r-hot").size(), inFirstCopy);
  // ... and while it runs there, that directory is no backup to restore from.
  testing::RunResult r = restore(taken.front().path, dir_.path() / "restored");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(taken.front().path.string() + " is in use by process " +
                       std::to_string(onCopy.pid())),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "restored"));
  EXPECT_EQ(onCopy.stop(), 0);
}

TEST_F(StoreBackupE2eTest, ACompactedCopyLeavesOutFreePagesAndHoldsTheSameData) {
  const fs::path store = dir_.path() / "store";
  ASSERT_NO_FATAL_FAILURE(fillStore(store, 20000));
  {
    // Free pages: 40 MB written to a database of its own, then dropped.
    lmdb::Env env = openCollectorEnv(store, kMapSize);
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    const MDB_dbi scratch = lmdb::openDbi(txn, "scratch");
    for (std::uint64_t i = 0; i < 10000; ++i) {
      lmdb::put(txn, scratch, lmdb::bigEndian(i), std::string(4000, 'x'));
    }
    txn.commit();
    txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    lmdb::check(mdb_drop(txn.get(), lmdb::openDbi(txn, "scratch"), 1), "mdb_drop");
    txn.commit();
  }
  testing::RunResult plain = backup(store, dir_.path() / "plain");
  ASSERT_EQ(plain.exitCode, 0) << plain.err;
  testing::RunResult compact = backup(store, dir_.path() / "compact", /*compact=*/true);
  ASSERT_EQ(compact.exitCode, 0) << compact.err;
  EXPECT_NE(compact.out.find("(compacted; the store's file has "), std::string::npos)
      << compact.out;
  EXPECT_NE(compact.out.find(
                ": " + std::to_string(fs::file_size(dir_.path() / "compact/data.mdb")) + " bytes"),
            std::string::npos)
      << compact.out;
  EXPECT_NE(compact.out.find(", 20000 events, "), std::string::npos) << compact.out;

  const auto plainBytes = fs::file_size(dir_.path() / "plain/data.mdb");
  const auto compactBytes = fs::file_size(dir_.path() / "compact/data.mdb");
  EXPECT_LT(compactBytes + (std::uint64_t{30} << 20), plainBytes)
      << "the 40 MB of free pages are left out";
  lmdb::Env source = openCollectorEnv(store, kMapSize);
  lmdb::Env plainEnv = openCollectorEnv(dir_.path() / "plain", kMapSize);
  lmdb::Env compactEnv = openCollectorEnv(dir_.path() / "compact", kMapSize);
  EXPECT_GT(freePageEntries(plainEnv), 0u);
  EXPECT_EQ(freePageEntries(compactEnv), 0u);
  const auto reference = wholeStore(source);
  EXPECT_EQ(reference.at("events").size(), 20000u);
  EXPECT_EQ(wholeStore(plainEnv), reference);
  EXPECT_EQ(wholeStore(compactEnv), reference);
}

TEST_F(StoreBackupE2eTest, ACompactedBackupNeverWaitsForTheWriterAndCopiesOnlyCommittedData) {
  const fs::path store = dir_.path() / "store";
  ASSERT_NO_FATAL_FAILURE(fillStore(store, 3000));
  lmdb::Env env = openCollectorEnv(store, kMapSize);
  // A writer in the middle of a transaction (as the collector's ingest may be at any moment).
  lmdb::Txn writing = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
  lmdb::put(writing, lmdb::openDbi(writing, "uncommitted"), "k", "v");
  testing::RunResult r = backup(store, dir_.path() / "copy", /*compact=*/true);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find(", 3000 events, "), std::string::npos) << r.out;
  writing.commit();
  lmdb::Env copy = openCollectorEnv(dir_.path() / "copy", kMapSize);
  const auto copied = wholeStore(copy);
  EXPECT_EQ(copied.count("uncommitted"), 0u);
  EXPECT_EQ(copied.at("events").size(), 3000u);
}

TEST_F(StoreBackupE2eTest, RestoreServesTheBackupAndRefusesWhatWouldLoseOrMisreadData) {
  const fs::path original = dir_.path() / "original";
  ASSERT_NO_FATAL_FAILURE(fillStore(original, 5000));
  const fs::path backupDir = dir_.path() / "backup";
  {
    testing::RunResult r = backup(original, backupDir);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  testing::CollectorProcess originalCollector({.dataDir = original});
  originalCollector.start();
  const auto expectedR1 = testing::allEvents(originalCollector.httpPort(), "release=r1");
  const auto expectedR2 = testing::allEvents(originalCollector.httpPort(), "release=r2");
  ASSERT_EQ(expectedR1.size() + expectedR2.size(), 5000u);

  // A backup goes into a new directory: not over a store, nor into anything not empty.
  {
    const std::string before = fileText(original / "data.mdb");
    testing::RunResult r = backup(backupDir, original);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(original.string() + " exists and is not empty"), std::string::npos)
        << r.err;
    testing::RunResult none = backup(dir_.path() / "nothing", dir_.path() / "b2");
    EXPECT_EQ(none.exitCode, 1);
    EXPECT_NE(none.err.find("nothing to back up"), std::string::npos) << none.err;
    EXPECT_FALSE(fs::exists(dir_.path() / "nothing"));
    EXPECT_FALSE(fs::exists(dir_.path() / "b2"));
    originalCollector.stop();
    EXPECT_EQ(fileText(original / "data.mdb"), before);
    originalCollector.start();
  }

  // Into an empty place: a collector started on it serves the same events.
  const fs::path restored = dir_.path() / "restored";
  {
    testing::RunResult r = restore(backupDir, restored);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("restored into " + (restored / "data.mdb").string() + ": "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(", 5000 events, format 2"), std::string::npos) << r.out;
    EXPECT_EQ(fs::status(restored / "data.mdb").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  }
  testing::CollectorProcess restoredCollector({.dataDir = restored});
  restoredCollector.start();
  EXPECT_EQ(testing::allEvents(restoredCollector.httpPort(), "release=r1"), expectedR1);
  EXPECT_EQ(testing::allEvents(restoredCollector.httpPort(), "release=r2"), expectedR2);

  // Run as root, the restored file belongs to the data directory's owner (the collector's user).
  if (::geteuid() == 0) {
    const fs::path owned = dir_.path() / "owned";
    fs::create_directories(owned);
    ASSERT_EQ(::chown(owned.c_str(), 65534, 65534), 0);
    testing::RunResult r = restore(backupDir, owned);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::stat((owned / "data.mdb").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    EXPECT_EQ(st.st_gid, 65534u);
  }

  // Over a store in use: refused even with --replace, naming the process.
  {
    testing::RunResult r = restore(backupDir, restored, /*replace=*/true);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("cannot restore into " + restored.string() + ": it is in use by process " +
                         std::to_string(restoredCollector.pid())),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(restoredCollector.stop(), 0);

  // Over a store without --replace: refused, nothing changes.
  {
    fillStore(dir_.path() / "other", 10);
    testing::RunResult r = restore(dir_.path() / "other", restored);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("already holds a store (data.mdb): nothing restored"), std::string::npos)
        << r.err;
    restoredCollector.start();
    EXPECT_EQ(testing::allEvents(restoredCollector.httpPort(), "release=r1"), expectedR1);
    EXPECT_EQ(restoredCollector.stop(), 0);
  }

  // With --replace: the old data.mdb stays beside it, under the name the output gives.
  {
    const std::string old = fileText(restored / "data.mdb");
    testing::RunResult r = restore(dir_.path() / "other", restored, /*replace=*/true);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string marker = "; the store it replaced is now ";
    const auto at = r.out.find(marker);
    ASSERT_NE(at, std::string::npos) << r.out;
    std::string aside = r.out.substr(at + marker.size());
    aside = aside.substr(0, aside.find('\n'));
    EXPECT_EQ(fs::path(aside).parent_path(), restored);
    EXPECT_EQ(fs::path(aside).filename().string().rfind("data.mdb.before-restore-", 0), 0u);
    EXPECT_EQ(fileText(aside), old);
    EXPECT_EQ(fileText(restored / "data.mdb"), fileText(dir_.path() / "other/data.mdb"));
    restoredCollector.start();
    EXPECT_EQ(testing::allEvents(restoredCollector.httpPort(), "release=r1").size(), 5u);
    EXPECT_EQ(restoredCollector.stop(), 0);
  }

  // A backup of a newer format: refused with the collector's words, nothing written.
  {
    const fs::path newer = dir_.path() / "newer";
    ASSERT_EQ(backup(original, newer).exitCode, 0);
    {
      lmdb::Env env = openCollectorEnv(newer, kMapSize);
      testing::setMetaValue(env, "format", "3");
    }
    testing::RunResult r = restore(newer, dir_.path() / "fresh");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("the store has format 3, newer than this collector's format 2"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(dir_.path() / "fresh/data.mdb"));
    testing::RunResult empty = restore(dir_.path() / "nothing", dir_.path() / "fresh");
    EXPECT_EQ(empty.exitCode, 1);
    EXPECT_NE(empty.err.find("nothing to restore"), std::string::npos) << empty.err;
  }
  EXPECT_EQ(originalCollector.stop(), 0);
}

}  // namespace
}  // namespace octolaunch
