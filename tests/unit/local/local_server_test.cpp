// The daemon's count of hand-overs that went wrong (LocalServer::handOverCounts): connections
// closed over the limit, batches refused, damaged queue files. What an operator (and the agent's
// health report) reads to see deploy users' records being lost or diverted.
#include "agent/local/local_server.h"

#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sstream>

#include "agent/local/local_batch.h"
#include "agent/spool/spool.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace octolaunch::agent {
namespace {

using namespace std::chrono_literals;

int connectTo(const std::filesystem::path& socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << socket;
  return fd;
}

class LocalServerCounts : public ::testing::Test {
 protected:
  LocalServerCounts()
      : spool_(Spool::open({dir_ / "spool"})),
        records_(*spool_, [](const DeployFinished&) {}),
        logger_(std::make_shared<spdlog::logger>(
            "local", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_))) {}

  std::unique_ptr<LocalServer> serve(LocalServerOptions options) {
    options.socket = dir_ / "agent.sock";
    options.queueDir = dir_ / "queue";
    return std::make_unique<LocalServer>(io_, records_, std::move(options), logger_);
  }
  // Turns the loop until pred holds (or 5 s pass).
  bool turnUntil(const std::function<bool()>& pred) {
    return testing::waitUntil(
        [&] {
          io_.waitScope.poll();
          return pred();
        },
        5s, 1ms);
  }

  testing::TempDir dir_;
  // Held by pointer: its destructor may throw, which a test fixture's may not.
  std::unique_ptr<kj::AsyncIoContext> ioOwner_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::AsyncIoContext& io_ = *ioOwner_;
  std::unique_ptr<Spool> spool_;
  LocalRecords records_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(LocalServerCounts, AConnectionOverTheLimitIsClosedAndCounted) {
  auto server = serve({.maxConnections = 1});
  auto running = server->run().eagerlyEvaluate(nullptr);
  const int first = connectTo(dir_ / "agent.sock");
  const int second = connectTo(dir_ / "agent.sock");
  ASSERT_TRUE(turnUntil([&] { return server->handOverCounts().connectionsOverLimit == 1; }))
      << log_.str();
  char byte = 0;
  EXPECT_EQ(::read(second, &byte, 1), 0);  // closed at once: its sender queues instead
  EXPECT_EQ(server->handOverCounts().batchesRefused, 0u);
  ::close(first);
  ::close(second);
}

TEST_F(LocalServerCounts, ARefusedBatchAndADamagedQueueFileAreCounted) {
  auto server = serve({});
  {
    // A hook batch may not carry an oom.kill: refused for good.
    capnp::MallocMessageBuilder message;
    auto batch = message.initRoot<schema::LocalBatch>();
    const SessionId session = newSessionId();
    batch.setSession(capnp::Data::Reader(session.data(), session.size()));
    batch.setBatch(1);
    batch.setKind(schema::LocalBatch::Kind::HOOK);
    batch.initEvents(1)[0].initPayload().initOomKill().setPid(42);
    QueueFile file(dir_ / "queue");
    file.write(capnp::messageToFlatArray(message));
  }
  std::filesystem::create_symlink("/etc/passwd", dir_ / "queue" / "not-a-batch");
  const ImportStats stats = server->importNow();
  EXPECT_EQ(stats.batches, 1u);
  const HandOverCounts counts = server->handOverCounts();
  EXPECT_EQ(counts.batchesRefused, 1u) << log_.str();
  EXPECT_EQ(counts.queueFilesDamaged, 1u) << log_.str();
  EXPECT_EQ(counts.connectionsOverLimit, 0u);
  EXPECT_EQ(counts.batchesNotStored, 0u);
}

}  // namespace
}  // namespace octolaunch::agent
