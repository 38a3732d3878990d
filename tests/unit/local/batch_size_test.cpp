// How large a hook's batches to the daemon are: as large as the daemon names in its replies
// (fewer synced spool commits per line), a quarter of kMaxBatchWords to a daemon that names none
// (an older one, which walks a batch four times within that bound) and in the queue, which any
// daemon version may import. The daemon here is the real LocalServer and spool; the older one is
// a peer that reads batches exactly as the daemon before LocalReply.maxBatchWords did.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/local/fallback_queue.h"
#include "agent/local/local_batch.h"
#include "agent/local/local_client.h"
#include "agent/local/local_server.h"
#include "agent/spool/spool.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace octolaunch::agent {
namespace {

using namespace std::chrono_literals;

// Hook output lines as separate hook.output events, as a hook's recorder could hand them to its
// sink: `count` lines of `lineBytes` each.
class HookLines {
 public:
  HookLines(unsigned count, std::size_t lineBytes) {
    auto list = message_.initRoot<schema::LocalBatch>().initEvents(count);
    for (unsigned i = 0; i < count; ++i) {
      auto event = list[i];
      event.setService("api");
      event.setRelease("r1");
      auto output = event.initPayload().initHookOutput();
      output.setLineNo(i + 1);
      std::string line(lineBytes, static_cast<char>('a' + i % 26));
      output.setLine(line);
    }
    for (auto event : message_.getRoot<schema::LocalBatch>().asReader().getEvents()) {
      readers_.push_back(event);
      words_ += event.totalSize().wordCount;
    }
  }
  std::span<const schema::Event::Reader> events() const { return readers_; }
  std::size_t count() const { return readers_.size(); }
  std::size_t words() const { return words_; }  // of the events, unframed

 private:
  capnp::MallocMessageBuilder message_;
  std::vector<schema::Event::Reader> readers_;
  std::size_t words_ = 0;
};

// About 3 MiB in lines of 1000 bytes; and about 5 MiB in 30,000 lines of 60 bytes, whose five
// pointers each would take a batch past its bound if they became far pointers when framed.
const HookLines& longLines() {
  static const HookLines lines(3000, 1000);
  return lines;
}
const HookLines& shortLines() {
  static const HookLines lines(30000, 60);
  return lines;
}

std::size_t batchesOf(std::size_t words, std::size_t batchWords) {
  return (words + batchWords - 1) / batchWords;
}

std::size_t spooledLines(Spool& spool) {
  std::size_t lines = 0;
  spool.readAfter(0, 1u << 20, [&](std::uint64_t, kj::ArrayPtr<const capnp::word>) { ++lines; });
  return lines;
}

// A batch read the way daemons before LocalReply.maxBatchWords read one: its size and every walk
// of LocalRecords::accept (check, copy) within one budget of kMaxBatchWords. Throws kj::Exception
// beyond it.
struct OlderRead {
  LocalRecords::Result result;
  std::uint64_t batch = 0;
  std::size_t words = 0;  // the message's size
};
OlderRead readAsAnOlderDaemon(kj::InputStream& in, LocalRecords& records) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kMaxBatchWords;
  options.nestingLimit = 16;
  capnp::InputStreamMessageReader reader(in, options);
  OlderRead read;
  for (capnp::uint segment = 0;; ++segment) {
    const auto words = reader.getSegment(segment);
    if (words.size() == 0) break;
    read.words += words.size();
  }
  auto batch = reader.getRoot<schema::LocalBatch>();
  read.batch = batch.getBatch();
  read.result = records.accept(::getuid(), batch);
  return read;
}

class LocalBatchSize : public ::testing::Test {
 protected:
  LocalClientOptions sinkOptions() const {
    return {.socket = dir_ / "agent.sock", .queueDir = dir_ / "queue", .replyTimeout = 5000ms};
  }

  testing::TempDir dir_;
  std::vector<std::string> warnings_;
  LocalSink::Warn warn_ = [this](const std::string& w) { warnings_.push_back(w); };
};

// Hands `lines` to the real daemon (LocalServer, LocalRecords, Spool) through a hook's
// LocalSink, and checks that the hook learnt the daemon's size, filled its batches to it and
// that every line is in the spool.
void recordThroughTheDaemon(const testing::TempDir& dir, const HookLines& lines,
                            const LocalClientOptions& sinkOptions) {
  std::ostringstream log;
  auto spool = Spool::open({dir / "spool"});
  LocalRecords records(*spool, [](const DeployFinished&) {});
  auto io = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  LocalServer server(*io, records, {.socket = dir / "agent.sock", .queueDir = dir / "queue"},
                     std::make_shared<spdlog::logger>(
                         "local", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  auto running = server.run().eagerlyEvaluate(nullptr);

  std::vector<std::string> warnings;
  std::atomic<bool> done = false;
  std::size_t target = 0, batches = 0, appended = 0;
  std::thread hook([&] {
    LocalSink sink(sinkOptions, [&](const std::string& w) { warnings.push_back(w); });
    target = sink.batchTargetWords();  // learnt from the reply to the hook's hello
    appended = sink.append(lines.events());
    batches = sink.batchesSent();
    done = true;
  });
  const bool finished = testing::waitUntil(
      [&] {
        io->waitScope.poll();
        return done.load();
      },
      30s, 1ms);
  hook.join();
  ASSERT_TRUE(finished) << log.str();
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(target, kBatchTargetWords);
  EXPECT_EQ(appended, lines.count());
  // Batches as large as the daemon takes: about as many as the named size gives, far fewer
  // than at a quarter of it.
  EXPECT_LE(batches, batchesOf(lines.words(), kBatchTargetWords) + 1);
  EXPECT_LT(batches, batchesOf(lines.words(), kLegacyBatchTargetWords) / 2);
  EXPECT_EQ(spooledLines(*spool), lines.count()) << log.str();
  EXPECT_EQ(server.handOverCounts().batchesRefused, 0u);
}

TEST_F(LocalBatchSize, AHookFillsBatchesToTheSizeTheDaemonNamesAndItStoresEveryLine) {
  recordThroughTheDaemon(dir_, longLines(), sinkOptions());
}

TEST_F(LocalBatchSize, ManyShortLinesFillBatchesToTheSizeAndNoBatchFramesPastIt) {
  recordThroughTheDaemon(dir_, shortLines(), sinkOptions());
}

TEST_F(LocalBatchSize, ToADaemonThatNamesNoSizeBatchesStayAtAQuarterAndEveryOneIsReadable) {
  // An older daemon: one connection, answered batch by batch without maxBatchWords.
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, (dir_ / "agent.sock").c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  auto spool = Spool::open({dir_ / "spool"});
  LocalRecords records(*spool, [](const DeployFinished&) {});
  std::size_t largestBatch = 0;
  std::string failure;
  std::thread olderDaemon([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    kj::FdInputStream raw(fd);
    kj::BufferedInputStreamWrapper in(raw);
    kj::FdOutputStream out(fd);
    try {
      while (in.tryGetReadBuffer().size() > 0) {
        const OlderRead batch = readAsAnOlderDaemon(in, records);
        if (batch.result.status != LocalRecords::Status::stored)
          throw std::runtime_error("batch " + std::to_string(batch.batch) +
                                   " not stored: " + batch.result.error);
        if (batch.batch > 0) largestBatch = std::max(largestBatch, batch.words);
        capnp::MallocMessageBuilder reply;
        reply.initRoot<schema::LocalReply>().setBatch(batch.batch);
        capnp::writeMessage(out, reply);
      }
    } catch (const kj::Exception& e) {
      failure = e.getDescription().cStr();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    ::close(fd);
  });

  const HookLines& lines = shortLines();
  std::size_t target = 0, appended = 0;
  {
    LocalSink sink(sinkOptions(), warn_);
    target = sink.batchTargetWords();
    appended = sink.append(lines.events());
  }
  olderDaemon.join();
  ::close(listener);
  EXPECT_TRUE(failure.empty()) << failure;
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
  EXPECT_EQ(target, kLegacyBatchTargetWords);
  EXPECT_EQ(appended, lines.count());
  EXPECT_EQ(spooledLines(*spool), lines.count());
  EXPECT_LE(largestBatch, kLegacyBatchTargetWords + kLegacyBatchTargetWords / 16);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "queue") &&
               !std::filesystem::is_empty(dir_ / "queue"));
}

TEST_F(LocalBatchSize, QueuedBatchesStayAtAQuarterSoThatAnyDaemonVersionImportsThem) {
  const HookLines& lines = shortLines();
  {
    LocalSink sink(sinkOptions(), warn_);  // no daemon: everything goes to the queue
    EXPECT_EQ(sink.batchTargetWords(), kLegacyBatchTargetWords);
    EXPECT_EQ(sink.append(lines.events()), lines.count());
  }
  ASSERT_FALSE(warnings_.empty());  // it said that the daemon is not reachable
  auto spool = Spool::open({dir_ / "spool"});
  LocalRecords records(*spool, [](const DeployFinished&) {});
  std::size_t files = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir_ / "queue")) {
    ++files;
    const int fd = ::open(file.path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << file.path();
    kj::FdInputStream raw(fd);
    kj::BufferedInputStreamWrapper in(raw);
    while (in.tryGetReadBuffer().size() > 0) {
      const OlderRead batch = readAsAnOlderDaemon(in, records);
      EXPECT_EQ(batch.result.status, LocalRecords::Status::stored) << batch.result.error;
    }
    ::close(fd);
  }
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(spooledLines(*spool), lines.count());
}

}  // namespace
}  // namespace octolaunch::agent
