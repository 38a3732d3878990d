#include "agent/spool/spool.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <vector>

#include "tests/support/event_kind_examples.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::agent {
namespace {

using schema::Event;
using testing::TempDir;

// A batch of events built in one message, as the hook wrapper builds them.
class Batch {
 public:
  void output(std::string_view line, std::uint32_t lineNo, std::int64_t timeNs = 1) {
    auto orphan = message_.getOrphanage().newOrphan<Event>();
    auto e = orphan.get();
    e.setTimeNs(timeNs);
    e.setRelease("r1");
    auto out = e.getPayload().initHookOutput();
    out.setLineNo(lineNo);
    out.setLine(std::string(line));
    orphans_.push_back(std::move(orphan));
  }
  void exit(int code) {
    auto orphan = message_.getOrphanage().newOrphan<Event>();
    auto x = orphan.get().getPayload().initHookExit();
    x.setExitCode(code);
    x.setCommand("false");
    orphans_.push_back(std::move(orphan));
  }
  void kind(const EventKind& kind) {
    auto orphan = message_.getOrphanage().newOrphan<Event>();
    test::initKind(orphan.get(), kind);
    orphans_.push_back(std::move(orphan));
  }
  std::vector<Event::Reader> readers() const {
    std::vector<Event::Reader> out;
    for (const auto& o : orphans_) out.push_back(o.getReader());
    return out;
  }
  std::size_t appendTo(Spool& spool) const {
    auto r = readers();
    return spool.append(r);
  }

 private:
  capnp::MallocMessageBuilder message_;
  std::vector<capnp::Orphan<Event>> orphans_;
};

struct Stored {
  std::uint64_t seq;
  std::uint64_t epoch;
  std::uint64_t eventSeq;
  Event::Payload::Which which;
  std::string line;
  std::uint32_t lineNo;
  std::string release;
  std::uint64_t shedCount;
};

std::vector<Stored> readAll(Spool& spool, std::uint64_t after = 0, std::size_t max = 1u << 30) {
  std::vector<Stored> out;
  spool.readAfter(after, max, [&](std::uint64_t seq, kj::ArrayPtr<const capnp::word> words) {
    capnp::FlatArrayMessageReader reader(words);
    auto e = reader.getRoot<Event>();
    Stored s{seq,
             e.getEpoch(),
             e.getSeq(),
             e.getPayload().which(),
             "",
             0,
             std::string(e.getRelease().cStr()),
             0};
    if (s.which == Event::Payload::HOOK_OUTPUT) {
      s.line = e.getPayload().getHookOutput().getLine().cStr();
      s.lineNo = e.getPayload().getHookOutput().getLineNo();
    }
    if (s.which == Event::Payload::SPOOL_SHED)
      s.shedCount = e.getPayload().getSpoolShed().getCount();
    out.push_back(s);
  });
  return out;
}

// A fresh epoch's first append is seq 1 of that epoch: appends one line and checks it is all there
// is.
void expectFirstOfANewEpoch(Spool& spool, const std::string& line) {
  Batch b;
  b.output(line, 1);
  b.appendTo(spool);
  auto all = readAll(spool);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].seq, 1u);
  EXPECT_EQ(all[0].line, line);
  EXPECT_EQ(all[0].epoch, spool.epoch());
}

TEST(Spool, AssignsSeqInOrderWithEpoch) {
  TempDir dir;
  auto spool = Spool::open({dir / "spool", 1 << 20});
  EXPECT_NE(spool->epoch(), 0u);
  Batch b;
  b.output("one", 1);
  b.output("two", 2);
  b.exit(0);
  EXPECT_EQ(b.appendTo(*spool), 3u);
  Batch c;
  c.output("three", 3);
  EXPECT_EQ(c.appendTo(*spool), 1u);

  auto all = readAll(*spool);
  ASSERT_EQ(all.size(), 4u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, i + 1);
    EXPECT_EQ(all[i].eventSeq, i + 1);
    EXPECT_EQ(all[i].epoch, spool->epoch());
  }
  EXPECT_EQ(all[0].line, "one");
  EXPECT_EQ(all[0].release, "r1");
  EXPECT_EQ(all[2].which, Event::Payload::HOOK_EXIT);
  EXPECT_EQ(all[3].line, "three");
  EXPECT_EQ(spool->lastSeq(), 4u);
  EXPECT_EQ(spool->pendingCount(), 4u);

  auto some = readAll(*spool, 2, 1);
  ASSERT_EQ(some.size(), 1u);
  EXPECT_EQ(some[0].seq, 3u);
}

TEST(Spool, ReopenKeepsEpochRecreateGetsNewEpoch) {
  TempDir dir;
  std::uint64_t first = 0;
  {
    auto spool = Spool::open({dir / "spool", 1 << 20});
    first = spool->epoch();
    Batch b;
    b.output("a", 1);
    b.output("b", 2);
    b.appendTo(*spool);
  }
  {
    auto spool = Spool::open({dir / "spool", 1 << 20});
    EXPECT_EQ(spool->epoch(), first);
    Batch b;
    b.output("c", 3);
    b.appendTo(*spool);
    EXPECT_EQ(spool->lastSeq(), 3u);
    // Deleting the spool under a running process is noticed.
    std::filesystem::remove_all(dir / "spool");
    EXPECT_TRUE(spool->replacedOnDisk());
  }
  auto spool = Spool::open({dir / "spool", 1 << 20});
  EXPECT_NE(spool->epoch(), first);
  EXPECT_FALSE(spool->replacedOnDisk());
  expectFirstOfANewEpoch(*spool, "new");
}

TEST(Spool, ReopenIfReplacedSwitchesToTheNewSpool) {
  TempDir dir;
  auto spool = Spool::open({dir / "spool", 1 << 20});
  Batch b;
  b.output("old", 1);
  b.appendTo(*spool);
  std::uint64_t oldEpoch = spool->epoch();
  EXPECT_FALSE(spool->reopenIfReplaced());
  std::filesystem::remove_all(dir / "spool");
  EXPECT_TRUE(spool->reopenIfReplaced());
  EXPECT_NE(spool->epoch(), oldEpoch);
  EXPECT_EQ(spool->pendingCount(), 0u);
  expectFirstOfANewEpoch(*spool, "new");
  EXPECT_TRUE(std::filesystem::exists(spool->dataFile()));
}

TEST(Spool, AckThroughDeletesOnlyThroughSeq) {
  TempDir dir;
  auto spool = Spool::open({dir / "spool", 1 << 20});
  Batch b;
  for (int i = 1; i <= 10; ++i) b.output("line " + std::to_string(i), i);
  b.appendTo(*spool);
  auto before = spool->stats().storedBytes;
  EXPECT_EQ(spool->ackThrough(4), 4u);
  EXPECT_EQ(spool->pendingCount(), 6u);
  EXPECT_LT(spool->stats().storedBytes, before);
  auto all = readAll(*spool);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all.front().seq, 5u);
  EXPECT_EQ(spool->ackThrough(4), 0u);  // idempotent
  EXPECT_EQ(spool->ackThrough(100), 6u);
  EXPECT_EQ(spool->pendingCount(), 0u);
  EXPECT_EQ(spool->stats().storedBytes, 0u);
  // Seq never goes back after everything was acknowledged.
  Batch c;
  c.output("after", 11);
  c.appendTo(*spool);
  EXPECT_EQ(readAll(*spool).at(0).seq, 11u);
}

TEST(Spool, ShedsLowValueWhenFullNeverHookExitAndReportsCount) {
  TempDir dir;
  const std::uint64_t maxBytes = 256 * 1024;
  auto spool = Spool::open({dir / "spool", maxBytes});
  const std::string line(900, 'x');
  std::size_t accepted = 0;
  const int total = 1000;  // ~1 MB of lines into a 256 KiB spool
  for (int chunk = 0; chunk < 10; ++chunk) {
    Batch b;
    for (int i = 0; i < total / 10; ++i) {
      int n = chunk * (total / 10) + i + 1;
      b.output(line, n, 1000 + n);
    }
    b.exit(chunk);  // never shed, even past the bound
    accepted += b.appendTo(*spool);
  }
  auto stats = spool->stats();
  // Only hook exits and spool.shed records may go past the bound.
  EXPECT_LE(stats.storedBytes, maxBytes + 10 * 2048 + 10 * 256);
  auto all = readAll(*spool);
  int exits = 0;
  std::uint64_t shedRecorded = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    exits += all[i].which == Event::Payload::HOOK_EXIT ? 1 : 0;
    if (all[i].which == Event::Payload::SPOOL_SHED) {
      shedRecorded += all[i].shedCount;
      // Told right before the event that is kept whatever happens.
      ASSERT_LT(i + 1, all.size());
      EXPECT_EQ(all[i + 1].which, Event::Payload::HOOK_EXIT);
    }
  }
  EXPECT_EQ(exits, 10);
  EXPECT_GT(shedRecorded, 0u);
  EXPECT_EQ(stats.shedPending, 0u);
  EXPECT_EQ(accepted + shedRecorded, static_cast<std::size_t>(total + 10));
  EXPECT_EQ(stats.shedTotal, shedRecorded);

  // Lines shed with no kept event after them: the count waits until there is room again (after
  // an ack), then one spool.shed comes ahead of newer events.
  Batch full;
  for (int i = 0; i < 5; ++i) full.output(line, static_cast<std::uint32_t>(total + i + 1));
  EXPECT_EQ(full.appendTo(*spool), 0u);
  EXPECT_EQ(spool->stats().shedPending, 5u);
  spool->ackThrough(readAll(*spool).back().seq);
  Batch more;
  more.output("later", 1);
  more.appendTo(*spool);
  auto rest = readAll(*spool);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].which, Event::Payload::SPOOL_SHED);
  EXPECT_EQ(rest[0].shedCount, 5u);
  EXPECT_EQ(rest[1].line, "later");
  EXPECT_EQ(spool->stats().shedPending, 0u);
  EXPECT_EQ(spool->stats().shedTotal, shedRecorded + 5);
}

// The shed policy is the kind table's: a full spool refuses exactly the kinds it marks whenFull.
TEST(Spool, FullSpoolShedsExactlyTheKindsTheTableMarks) {
  TempDir dir;
  auto spool = Spool::open({dir / "spool", 64 * 1024});
  const std::string line(900, 'x');
  for (std::uint32_t n = 1; spool->stats().shedPending == 0; ++n) {
    ASSERT_LT(n, 1000u) << "the spool never filled";
    Batch b;
    b.output(line, n);
    b.appendTo(*spool);
  }
  // Then to the last word: until an empty hook.output (the smallest sheddable event) is refused.
  const EventKind& output = *findKind("hook.output");
  for (int n = 0; spool->stats().shedPending == 1; ++n) {
    ASSERT_LT(n, 1000) << "empty events never filled the spool";
    Batch b;
    b.kind(output);
    b.appendTo(*spool);
  }
  for (const auto& kind : kEventKinds) {
    Batch b;
    b.kind(kind);
    EXPECT_EQ(b.appendTo(*spool), kind.shed == ShedPolicy::whenFull ? 0u : 1u) << kind.name;
  }
}

TEST(Spool, HoldsItsReserveOnTheFilesystem) {
  TempDir dir;
  SpoolOptions options{dir / "spool", 1 << 20, nullptr, 256 * 1024};
  auto spool = Spool::open(options);
  EXPECT_TRUE(spool->stats().reserveHeld);
  EXPECT_FALSE(spool->stats().storageFull);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "spool" / "reserve").c_str(), &st), 0);
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, 256u * 1024);
  options.reserveBytes = 0;
  options.dir = dir / "bare";
  EXPECT_FALSE(Spool::open(options)->stats().reserveHeld);
  EXPECT_FALSE(std::filesystem::exists(dir / "bare" / "reserve"));
}

// The daemon owns the spool alone: deploy users reach it only through the agent socket.
TEST(Spool, DirectoryAndFilesAreTheOwnersAlone) {
  TempDir dir;
  mode_t old = umask(022);
  auto spool = Spool::open({dir / "spool", 1 << 20});
  umask(old);
  struct stat st {};
  ASSERT_EQ(stat((dir / "spool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(stat(spool->dataFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir / "spool" / "lock.mdb").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The process umask is restored.
  mode_t now = umask(0);
  umask(now);
  EXPECT_EQ(now, old);
}

TEST(Spool, OpenFailureNamesTheDirectory) {
  TempDir dir;
  std::filesystem::create_directories((dir / "spool").parent_path());
  std::ofstream(dir / "spool") << "not a directory";
  try {
    Spool::open({dir / "spool", 1 << 20});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "spool").string()), std::string::npos) << e.what();
  }
}

TEST(Spool, TwoProcessesAppendingAtOnceGetDistinctContiguousSeqs) {
  TempDir dir;
  { Spool::open({dir / "spool", 64 << 20}); }  // create first so both children share one epoch
  const int perChild = 5000;
  std::vector<pid_t> children;
  for (int writer = 0; writer < 2; ++writer) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child opens its own environment: LMDB handles never cross fork().
      int rc = 0;
      try {
        auto spool = Spool::open({dir / "spool", 64 << 20});
        int n = 0;
        while (n < perChild) {
          Batch b;
          int size = 1 + (n * 7 + writer * 13) % 50;
          for (int i = 0; i < size && n < perChild; ++i, ++n) {
            b.output("w" + std::to_string(writer) + " " + std::to_string(n), n + 1);
          }
          b.appendTo(*spool);
        }
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto spool = Spool::open({dir / "spool", 64 << 20});
  auto all = readAll(*spool);
  ASSERT_EQ(all.size(), 2u * perChild);
  std::map<int, std::uint32_t> lastLineNo;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, i + 1);
    EXPECT_EQ(all[i].eventSeq, i + 1);
    int writer = all[i].line[1] - '0';
    // Each writer's events keep their order.
    EXPECT_EQ(all[i].lineNo, lastLineNo[writer] + 1);
    lastLineNo[writer] = all[i].lineNo;
  }
}

}  // namespace
}  // namespace octolaunch::agent
