// The RPC ingest against a real LMDB store, over loopback TCP on port 0, with real capnp clients
// and raw sockets for bad input. Client and server share this thread's KJ event loop.
#include <capnp/rpc-twoparty.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <condition_variable>
#include <mutex>
#include <tuple>

#include "collector/ingest/ingest_server.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::ingest {
namespace {

using testing::BatchMessage;
using testing::EventSpec;
using testing::outputLines;

// The real store behind a gate: commitBatches (on the writer thread) says it has begun, then
// waits until the test opens the gate. Everything else goes straight through.
class GatedStore final : public EventStore {
 public:
  EventStore* inner = nullptr;

  std::vector<BatchResult> commitBatches(std::span<const IngestBatch> batches) override {
    std::unique_lock lock(mutex_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&]() { return open_; });
    lock.unlock();
    return inner->commitBatches(batches);
  }
  int entered() {
    std::lock_guard lock(mutex_);
    return entered_;
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  std::uint64_t highWater(std::string_view agentId, std::uint64_t epoch) override {
    return inner->highWater(agentId, epoch);
  }
  EventPage query(const EventQuery& query) override { return inner->query(query); }
  void forEachEvent(const EventQuery& query,
                    const std::function<bool(schema::Event::Reader)>& fn) override {
    inner->forEachEvent(query, fn);
  }
  RewriteStep rewriteRelease(std::string_view release, std::string_view resumeAfter,
                             std::size_t maxEvents, const EventRewrite& rewrite) override {
    return inner->rewriteRelease(release, resumeAfter, maxEvents, rewrite);
  }
  ExpireStep expireOldest(std::int64_t beforeNs, std::string_view resumeAfter,
                          std::size_t maxEvents, const EventKeep& keep) override {
    return inner->expireOldest(beforeNs, resumeAfter, maxEvents, keep);
  }
  std::optional<std::int64_t> oldestEventNs() override { return inner->oldestEventNs(); }
  std::vector<HostInfo> hosts() override { return inner->hosts(); }
  std::vector<QuarantinedEvent> quarantined(std::size_t limit) override {
    return inner->quarantined(limit);
  }
  std::uint64_t quarantinedCount() override { return inner->quarantinedCount(); }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool open_ = false;
};

class IngestTest : public ::testing::Test {
 protected:
  // Without tokens the collector is open; with tokens, older agents' shared tokens are accepted
  // (the enrollment tests say what they need).
  void start(std::vector<std::string> tokens = {}, IngestLimits limits = {},
             std::size_t mapSize = std::size_t{64} << 20,
             std::optional<AccessOptions> accessOptions = std::nullopt) {
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), mapSize));
    store_ = std::make_unique<LmdbEventStore>(*env_, clock_);
    if (gate_) gate_->inner = store_.get();
    registry_ = std::make_unique<AgentRegistry>(*env_);
    const AccessOptions options = accessOptions.value_or(
        AccessOptions{.open = tokens.empty(), .acceptSharedTokens = !tokens.empty()});
    tokens_ = std::make_unique<TokenSet>(std::move(tokens));
    access_ = std::make_unique<AgentAccess>(*registry_, *tokens_, options, clock_);
    server_ = std::make_unique<IngestServer>(gate_ ? *gate_ : static_cast<EventStore&>(*store_),
                                             *access_, sessions_, limits, metrics_,
                                             io_.provider->getTimer(), clock_);
    listener_ = io_.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(ws())->listen();
    serving_ = server_->serve(*listener_).eagerlyEvaluate([](kj::Exception&& e) {
      ADD_FAILURE() << e.getDescription().cStr();
    });
  }
  void TearDown() override {
    serving_ = nullptr;
    server_.reset();
    listener_ = nullptr;
  }

  kj::WaitScope& ws() { return io_.waitScope; }

  // Turns the loop (1 ms at a time) until done() holds; fails the test after 10 s.
  void turnUntil(const std::function<bool()>& done, const char* what) {
    for (int i = 0; i < 10'000 && !done(); ++i) {
      io_.provider->getTimer().afterDelay(1 * kj::MILLISECONDS).wait(ws());
    }
    ASSERT_TRUE(done()) << "not within 10 s: " << what;
  }

  kj::Own<kj::AsyncIoStream> connect() {
    return io_.provider->getNetwork()
        .parseAddress("127.0.0.1", listener_->getPort())
        .wait(ws())
        ->connect()
        .wait(ws());
  }

  // A capnp agent connection.
  struct Agent {
    kj::Own<kj::AsyncIoStream> stream;
    kj::Own<capnp::TwoPartyClient> rpc;
    schema::Collector::Client collector;
    explicit Agent(kj::Own<kj::AsyncIoStream> s)
        : stream(kj::mv(s)),
          rpc(kj::heap<capnp::TwoPartyClient>(*stream)),
          collector(rpc->bootstrap().castAs<schema::Collector>()) {}
  };

  Agent agent() { return Agent(connect()); }

  struct Hello {
    schema::Ingest::Client ingest;
    std::uint64_t resumeAfterSeq;
  };
  Hello hello(Agent& a, const std::string& agentId, std::uint64_t epoch,
              const std::string& token = "") {
    auto req = a.collector.helloRequest();
    req.getAgent().setAgentId(agentId);
    req.getAgent().setHost("web-1");
    req.setEpoch(epoch);
    req.getCredentials().setToken(token);
    auto resp = req.send().wait(ws());
    return {resp.getIngest(), resp.getResumeAfterSeq()};
  }

  // previousSeq nullopt: not sent (an older agent).
  kj::Promise<capnp::Response<schema::Ingest::PushResults>> pushAsync(
      schema::Ingest::Client& ingest, BatchMessage& batch,
      std::optional<std::uint64_t> previousSeq = std::nullopt) {
    auto req = ingest.pushRequest();
    req.setEvents(batch.batch().events);
    if (previousSeq) req.setPreviousSeq(*previousSeq);
    return req.send();
  }
  std::uint64_t push(schema::Ingest::Client& ingest, BatchMessage& batch,
                     std::optional<std::uint64_t> previousSeq = std::nullopt) {
    return pushAsync(ingest, batch, previousSeq).wait(ws()).getCommittedThroughSeq();
  }
  // The failure's description, or "accepted".
  std::string refusal(schema::Ingest::Client& ingest, BatchMessage& batch,
                      std::optional<std::uint64_t> previousSeq = std::nullopt) {
    try {
      push(ingest, batch, previousSeq);
    } catch (const kj::Exception& e) {
      return e.getDescription().cStr();
    }
    return "accepted";
  }

  // Reads until EOF; fails the test if the server keeps the connection open for 5 s.
  void expectClosedByServer(kj::AsyncIoStream& stream) {
    auto buffer = kj::heapArray<kj::byte>(4096);
    auto readAll = kj::evalLater([&]() -> kj::Promise<void> {
      struct Loop {
        static kj::Promise<void> go(kj::AsyncIoStream& s, kj::ArrayPtr<kj::byte> buf) {
          return s.tryRead(buf.begin(), 1, buf.size())
              .then([&s, buf](size_t n) -> kj::Promise<void> {
                if (n == 0) return kj::READY_NOW;
                return go(s, buf);
              });
        }
      };
      return Loop::go(stream, buffer);
    });
    bool closed = io_.provider->getTimer()
                      .timeoutAfter(5 * kj::SECONDS, kj::mv(readAll))
                      .then([]() { return true; },
                            [](kj::Exception&& e) {
                              // A reset is a close too; only the timeout is a failure.
                              return e.getType() != kj::Exception::Type::OVERLOADED;
                            })
                      .wait(ws());
    EXPECT_TRUE(closed) << "the collector kept a connection that sent bad bytes";
  }

  // KJ objects may throw from destructors: kept behind a pointer (gtest needs a noexcept fixture).
  struct Loop {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    kj::Own<kj::ConnectionReceiver> listener;
    kj::Promise<void> serving = nullptr;
  };
  std::unique_ptr<Loop> loop_ = std::make_unique<Loop>();
  kj::AsyncIoContext& io_ = loop_->io;
  kj::Own<kj::ConnectionReceiver>& listener_ = loop_->listener;
  kj::Promise<void>& serving_ = loop_->serving;
  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> store_;
  std::unique_ptr<TokenSet> tokens_;
  std::unique_ptr<AgentRegistry> registry_;
  std::unique_ptr<AgentAccess> access_;
  SessionTable sessions_;
  IngestMetrics metrics_;
  std::unique_ptr<GatedStore> gate_;  // set before start(): the server's commits wait on it
  std::unique_ptr<IngestServer> server_;
};

TEST_F(IngestTest, HelloAndPushAnswerWithTheCollectorsTimesAndTheAgentsClockIsKept) {
  start();
  clock_.now = 1'800'000'000'000'000'000;
  Agent a = agent();
  auto req = a.collector.helloRequest();
  req.getAgent().setAgentId("agent-a");
  req.getAgent().setHost("web-1");
  req.setEpoch(1);
  req.setAgentSendNs(clock_.now - 2'000'000'000);
  auto hello = req.send().wait(ws());
  EXPECT_EQ(hello.getCollectorReceiveNs(), clock_.now);
  EXPECT_EQ(hello.getCollectorSendNs(), clock_.now);
  auto ingest = hello.getIngest();

  // A push that reports no measurement leaves the host's clock unknown.
  BatchMessage first("agent-a", 1, outputLines(1, 1));
  EXPECT_EQ(push(ingest, first), 1u);
  EXPECT_FALSE(store_->hosts().at(0).clock.has_value());

  clock_.now += 5'000'000'000;
  BatchMessage second("agent-a", 1, outputLines(2, 2));
  auto p = ingest.pushRequest();
  p.setEvents(second.batch().events);
  p.setAgentSendNs(clock_.now - 2'000'000'000);
  p.getClock().setOffsetNs(2'000'000'000);
  p.getClock().setRoundTripNs(30'000'000);
  p.getClock().setMeasured(true);
  auto answer = p.send().wait(ws());
  EXPECT_EQ(answer.getCommittedThroughSeq(), 2u);
  EXPECT_EQ(answer.getCollectorReceiveNs(), clock_.now);
  EXPECT_EQ(answer.getCollectorSendNs(), clock_.now);
  auto kept = store_->hosts().at(0).clock;
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->offsetNs, 2'000'000'000);
  EXPECT_EQ(kept->roundTripNs, 30'000'000);

  // measured = false is not a sample.
  BatchMessage third("agent-a", 1, outputLines(3, 3));
  auto q = ingest.pushRequest();
  q.setEvents(third.batch().events);
  q.getClock().setOffsetNs(-99);
  q.getClock().setMeasured(false);
  q.send().wait(ws());
  EXPECT_EQ(store_->hosts().at(0).clock->offsetNs, 2'000'000'000);
}

TEST_F(IngestTest, PushIsAcknowledgedAfterCommitAndRedeliveryIsANoOp) {
  start();
  Agent a = agent();
  Hello h = hello(a, "agent-a", 5);
  EXPECT_EQ(h.resumeAfterSeq, 0u);
  BatchMessage first("agent-a", 5, outputLines(1, 100));
  EXPECT_EQ(push(h.ingest, first), 100u);
  EXPECT_EQ(store_->highWater("agent-a", 5), 100u);

  // Reconnect (an agent restart): hello says where to resume; a redelivered batch adds nothing.
  Agent again = agent();
  Hello h2 = hello(again, "agent-a", 5);
  EXPECT_EQ(h2.resumeAfterSeq, 100u);
  BatchMessage overlap("agent-a", 5, outputLines(51, 150));
  EXPECT_EQ(push(h2.ingest, overlap), 150u);
  EXPECT_EQ(store_->hosts()[0].eventsStored, 150u);
  EXPECT_EQ(metrics_.eventsDuplicate.load(), 50u);

  // An agent that hangs up cleanly is a close, not a rejection.
  { Agent gone = std::move(again); }
  for (int i = 0; i < 5000 && metrics_.connectionsClosed.load() == 0; ++i) {
    io_.provider->getTimer().afterDelay(1 * kj::MILLISECONDS).wait(ws());
  }
  EXPECT_EQ(metrics_.connectionsClosed.load(), 1u);
  EXPECT_EQ(metrics_.connectionsRejected.load(), 0u);
}

TEST_F(IngestTest, TokensAreChecked) {
  start({"s3cret"});
  Agent a = agent();
  try {
    hello(a, "agent-a", 1, "wrong");
    FAIL() << "a wrong token was accepted";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("credentials not accepted"),
              std::string::npos);
  }
  // Same connection, right token: accepted.
  Hello h = hello(a, "agent-a", 1, "s3cret");
  BatchMessage batch("agent-a", 1, outputLines(1, 3));
  EXPECT_EQ(push(h.ingest, batch), 3u);
  EXPECT_EQ(metrics_.hellosRejected.load(), 1u);
}

TEST_F(IngestTest, MalformedBatchesAreRefusedByNameAndTheConnectionLives) {
  start();
  Agent a = agent();
  Hello h = hello(a, "agent-a", 1);
  auto refused = [&](BatchMessage& batch) { return refusal(h.ingest, batch); };
  BatchMessage otherAgent("agent-b", 1, outputLines(1, 2));
  EXPECT_NE(refused(otherAgent).find("agent_id does not match"), std::string::npos);
  BatchMessage otherEpoch("agent-a", 2, outputLines(1, 2));
  EXPECT_NE(refused(otherEpoch).find("epoch 0000000000000002 is not the epoch of hello()"),
            std::string::npos);
  BatchMessage backwards("agent-a", 1, {{.seq = 5, .timeNs = 1}, {.seq = 4, .timeNs = 2}});
  EXPECT_NE(refused(backwards).find("event 1 (seq 4): seq is not above the previous seq 5"),
            std::string::npos)
      << refused(backwards);
  EXPECT_EQ(metrics_.batchesRejected.load(), 3u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 0u);
  // Bad content is the event's own problem: quarantined, acknowledged, not a refused batch.
  BatchMessage nulHost("agent-a", 1, {{.seq = 1, .timeNs = 1, .host = std::string("a\0b", 3)}});
  EXPECT_EQ(push(h.ingest, nulHost), 1u);
  EXPECT_EQ(store_->quarantined(1).at(0).reason, "host contains a NUL byte");
  EXPECT_EQ(metrics_.batchesRejected.load(), 3u);

  BatchMessage good("agent-a", 1, outputLines(1, 2));
  EXPECT_EQ(push(h.ingest, good), 2u);
}

TEST_F(IngestTest, GarbageBytesDropOnlyThatConnection) {
  start();
  Agent healthy = agent();
  Hello h = hello(healthy, "agent-a", 1);

  auto garbage = connect();
  const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n\xff\xfe\x00\x01 not capnp at all";
  garbage->write(junk, sizeof(junk)).wait(ws());
  expectClosedByServer(*garbage);

  BatchMessage batch("agent-a", 1, outputLines(1, 10));
  EXPECT_EQ(push(h.ingest, batch), 10u);
  EXPECT_EQ(metrics_.connectionsRejected.load(), 1u);
}

TEST_F(IngestTest, TruncatedMessageDropsOnlyThatConnection) {
  start();
  Agent healthy = agent();
  Hello h = hello(healthy, "agent-a", 1);

  // A real hello() message, cut in half, then the writer closes.
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::AnyPointer>();
  const std::string text(400, 'x');
  root.initAs<capnp::List<capnp::Text>>(20).set(0, capnp::Text::Reader(text.c_str(), text.size()));
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  auto truncated = connect();
  truncated->write(bytes.begin(), bytes.size() / 2).wait(ws());
  truncated->shutdownWrite();
  expectClosedByServer(*truncated);

  BatchMessage batch("agent-a", 1, outputLines(1, 10));
  EXPECT_EQ(push(h.ingest, batch), 10u);
  EXPECT_GE(metrics_.connectionsClosed.load(), 1u);
}

TEST_F(IngestTest, MessageOverTheLimitDropsTheConnection) {
  start({}, IngestLimits{.maxMessageBytes = 256 * 1024});
  Agent big = agent();
  Hello h = hello(big, "agent-a", 1);
  auto specs = outputLines(1, 2000);
  for (auto& s : specs) s.line = std::string(500, 'y');  // ~1 MB > 256 KiB
  BatchMessage batch("agent-a", 1, specs);
  EXPECT_THROW(push(h.ingest, batch), kj::Exception);
  EXPECT_EQ(store_->highWater("agent-a", 1), 0u);

  Agent other = agent();
  Hello h2 = hello(other, "agent-b", 1);
  BatchMessage small("agent-b", 1, outputLines(1, 10));
  EXPECT_EQ(push(h2.ingest, small), 10u);
  EXPECT_EQ(metrics_.connectionsRejected.load(), 1u);
}

TEST_F(IngestTest, FullStoreRefusesThePushAndKeepsServing) {
  start({}, {}, std::size_t{1} << 20);
  Agent a = agent();
  Hello h = hello(a, "agent-a", 1);
  BatchMessage first("agent-a", 1, outputLines(1, 50));
  EXPECT_EQ(push(h.ingest, first), 50u);
  auto specs = outputLines(51, 8000);
  for (auto& s : specs) s.line = std::string(300, 'z');
  BatchMessage huge("agent-a", 1, specs);
  try {
    push(h.ingest, huge);
    FAIL() << "a 2.4 MB batch fit a 1 MiB map";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("store is full"), std::string::npos)
        << e.getDescription().cStr();
  }
  EXPECT_EQ(metrics_.commitErrorsFull.load(), 1u);
  EXPECT_EQ(metrics_.storeFull.load(), 1u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 50u);
  // The agent's next push continues from the failed one: refused, so the mark cannot pass it.
  BatchMessage after("agent-a", 1, outputLines(8001, 8010));
  EXPECT_NE(refusal(h.ingest, after, 8000).find("gap: the collector has through seq 50"),
            std::string::npos);
  EXPECT_EQ(store_->highWater("agent-a", 1), 50u);
  BatchMessage next("agent-a", 1, outputLines(51, 60));
  EXPECT_EQ(push(h.ingest, next, 50), 60u);
  EXPECT_EQ(metrics_.storeFull.load(), 0u);
}

TEST_F(IngestTest, APushThatPassesAMissingOneIsRefusedUntilTheGapIsFilled) {
  start();
  Agent a = agent();
  Hello h = hello(a, "agent-a", 1);
  BatchMessage first("agent-a", 1, outputLines(1, 10));
  EXPECT_EQ(push(h.ingest, first, 0), 10u);
  BatchMessage third("agent-a", 1, outputLines(21, 30));
  // Declared (previousSeq 20) or implied by its first seq (an agent that does not send it).
  EXPECT_NE(refusal(h.ingest, third, 20).find("gap"), std::string::npos);
  EXPECT_NE(refusal(h.ingest, third).find("gap"), std::string::npos);
  EXPECT_EQ(metrics_.batchesGap.load(), 2u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 10u);
  // A new session resumes from the mark and fills the gap; then the later push is taken.
  Agent again = agent();
  Hello h2 = hello(again, "agent-a", 1);
  EXPECT_EQ(h2.resumeAfterSeq, 10u);
  BatchMessage second("agent-a", 1, outputLines(11, 20));
  EXPECT_EQ(push(h2.ingest, second, 10), 20u);
  EXPECT_EQ(push(h2.ingest, third, 20), 30u);
  EXPECT_EQ(store_->hosts()[0].eventsStored, 30u);
  EXPECT_EQ(metrics_.eventsDuplicate.load(), 0u);
}

TEST_F(IngestTest, OnePoisonEventIsQuarantinedAndItsNeighboursAreStored) {
  start();
  Agent a = agent();
  Hello h = hello(a, "agent-a", 1);
  auto specs = outputLines(1, 2000);
  specs[999].release = std::string(300, 'p');  // seq 1000: over kMaxIdBytes
  BatchMessage batch("agent-a", 1, specs);
  EXPECT_EQ(push(h.ingest, batch, 0), 2000u);
  EXPECT_EQ(metrics_.eventsStored.load(), 1999u);
  EXPECT_EQ(metrics_.eventsQuarantined.load(), 1u);
  EXPECT_EQ(metrics_.batchesRejected.load(), 0u);
  EXPECT_EQ(store_->hosts()[0].eventsStored, 1999u);
  auto kept = store_->quarantined(10);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].seq, 1000u);
  EXPECT_EQ(kept[0].reason, "release is longer than 256 bytes");
  EXPECT_NE(metrics_.prometheus().find("octolaunch_ingest_events_quarantined_total 1\n"),
            std::string::npos);
}

// "sessionEnvelope": events without agent id, host and epoch are stored with the session's; an
// event that names another agent or epoch is still refused.
TEST_F(IngestTest, EventsWithoutAnEnvelopeAreStoredWithTheSessions) {
  start();
  Agent a = agent();
  auto req = a.collector.helloRequest();
  req.getAgent().setAgentId("agent-a");
  req.getAgent().setHost("web-7");
  req.setEpoch(9);
  auto resp = req.send().wait(ws());
  std::vector<std::string> accepts;
  for (auto word : resp.getAccepts()) accepts.emplace_back(word.cStr());
  EXPECT_EQ(accepts, (std::vector<std::string>{"hookBlock", "sessionEnvelope"}));
  schema::Ingest::Client ingest = resp.getIngest();

  std::vector<EventSpec> specs = outputLines(1, 3);
  for (EventSpec& s : specs) s.host.clear();
  BatchMessage bare("", 0, specs);
  EXPECT_EQ(push(ingest, bare, 0), 3u);
  std::vector<std::tuple<std::string, std::uint64_t, std::string, std::uint64_t>> stored;
  store_->forEachEvent({}, [&](schema::Event::Reader e) {
    stored.emplace_back(e.getAgentId().cStr(), e.getEpoch(), e.getHost().cStr(), e.getSeq());
    return true;
  });
  using Row = std::tuple<std::string, std::uint64_t, std::string, std::uint64_t>;
  EXPECT_EQ(stored, (std::vector<Row>{{"agent-a", 9, "web-7", 1},
                                      {"agent-a", 9, "web-7", 2},
                                      {"agent-a", 9, "web-7", 3}}));
  EXPECT_EQ(store_->highWater("agent-a", 9), 3u);

  BatchMessage otherEpoch("", 4, outputLines(4, 4));
  const std::string epochRefusal = refusal(ingest, otherEpoch, 3);
  EXPECT_NE(epochRefusal.find("is not the epoch of hello()"), std::string::npos) << epochRefusal;
  BatchMessage otherAgent("agent-b", 0, outputLines(4, 4));
  EXPECT_NE(refusal(ingest, otherAgent, 3).find("agent_id does not match"), std::string::npos);
}

TEST_F(IngestTest, PushesArrivingTogetherShareATransaction) {
  start();
  constexpr int kAgents = 4;
  std::vector<Agent> agents;
  std::vector<Hello> hellos;
  std::vector<std::unique_ptr<BatchMessage>> batches;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(agent());
    hellos.push_back(hello(agents.back(), "agent-" + std::to_string(i), 1));
  }
  kj::Vector<kj::Promise<void>> pending;
  for (int i = 0; i < kAgents; ++i) {
    batches.push_back(
        std::make_unique<BatchMessage>("agent-" + std::to_string(i), 1, outputLines(1, 500)));
    pending.add(pushAsync(hellos[i].ingest, *batches.back()).then([](auto resp) {
      EXPECT_EQ(resp.getCommittedThroughSeq(), 500u);
    }));
  }
  kj::joinPromises(pending.releaseAsArray()).wait(ws());
  EXPECT_EQ(metrics_.batchesCommitted.load(), static_cast<std::uint64_t>(kAgents));
  // All four were sent before the loop ran; they should not need four transactions.
  EXPECT_LT(metrics_.commitTransactions.load(), static_cast<std::uint64_t>(kAgents));
  EXPECT_EQ(store_->hosts().size(), static_cast<std::size_t>(kAgents));
}

// The commit runs on the writer thread while the loop goes on: an agent that hangs up while its
// push is being committed does not take the messages the commit reads with it, and the pushes
// that arrive meanwhile make up the next transaction.
TEST_F(IngestTest, PushesArrivingDuringACommitGoInTheNextOneAndAHangUpWaitsForIt) {
  gate_ = std::make_unique<GatedStore>();
  start();
  auto first = std::make_unique<Agent>(agent());
  Hello firstHello = hello(*first, "agent-a", 1);
  BatchMessage firstBatch("agent-a", 1, outputLines(1, 300));
  auto firstPush = pushAsync(firstHello.ingest, firstBatch).eagerlyEvaluate(nullptr);
  turnUntil([&]() { return gate_->entered() == 1; }, "the first commit begins");

  // The first agent hangs up while its commit waits; the server notices.
  firstPush = nullptr;
  firstHello.ingest = nullptr;
  first.reset();
  turnUntil([&]() { return metrics_.connectionsClosed.load() == 1; }, "the hang-up is seen");

  Agent second = agent();
  Hello secondHello = hello(second, "agent-b", 1);
  BatchMessage secondBatch("agent-b", 1, outputLines(1, 50));
  BatchMessage thirdBatch("agent-b", 1, outputLines(51, 70));
  auto secondPush = pushAsync(secondHello.ingest, secondBatch);
  auto thirdPush = pushAsync(secondHello.ingest, thirdBatch, 50);
  turnUntil([&]() { return metrics_.batchesWaiting.load() == 2; },
            "both pushes are encoded and wait for the next transaction");
  EXPECT_EQ(metrics_.batchesEncoding.load(), 0u);
  EXPECT_EQ(gate_->entered(), 1) << "a second transaction began while the first was in flight";
  EXPECT_EQ(metrics_.batchesCommitted.load(), 0u);
  gate_->open();
  EXPECT_EQ(secondPush.wait(ws()).getCommittedThroughSeq(), 50u);
  EXPECT_EQ(thirdPush.wait(ws()).getCommittedThroughSeq(), 70u);

  // The hung-up agent's push was stored all the same, and the two pushes that came while it
  // was being committed shared the next transaction.
  EXPECT_EQ(store_->highWater("agent-a", 1), 300u);
  EXPECT_EQ(metrics_.eventsStored.load(), 370u);
  EXPECT_EQ(metrics_.commitTransactions.load(), 2u);
  EXPECT_EQ(gate_->entered(), 2);
  EXPECT_EQ(metrics_.batchesWaiting.load(), 0u);
  EXPECT_EQ(metrics_.batchesEncoding.load(), 0u);
}

// Enrollment and identity (agent_access.h): a collector that takes enrolled agents only.
class EnrollmentTest : public IngestTest {
 protected:
  void SetUp() override { start({"enroll-secret"}, {}, std::size_t{64} << 20, AccessOptions{}); }

  struct Key {
    std::string key;
    std::uint64_t generation;
  };
  Key enroll(Agent& a, const std::string& agentId, const std::string& host,
             const std::string& secret = "enroll-secret") {
    auto req = a.collector.enrollRequest();
    req.setSecret(secret);
    req.getAgent().setAgentId(agentId);
    req.getAgent().setHost(host);
    auto resp = req.send().wait(ws());
    return {resp.getAgentKey().cStr(), resp.getGeneration()};
  }
  Hello helloWithKey(Agent& a, const std::string& agentId, const std::string& claimedHost,
                     const Key& key, std::uint64_t nextGeneration, std::uint64_t epoch = 1) {
    auto req = a.collector.helloRequest();
    req.getAgent().setAgentId(agentId);
    req.getAgent().setHost(claimedHost);
    req.setEpoch(epoch);
    auto credentials = req.getCredentials();
    credentials.setAgentKey(key.key);
    credentials.setGeneration(key.generation);
    credentials.setNextGeneration(nextGeneration);
    auto resp = req.send().wait(ws());
    return {resp.getIngest(), resp.getResumeAfterSeq()};
  }
  template <typename Call>
  std::string failure(Call call) {
    try {
      call();
    } catch (const kj::Exception& e) {
      std::string what = e.getDescription().cStr();
      constexpr std::string_view kRemote = "remote exception: ";  // added by the RPC layer
      if (what.rfind(kRemote, 0) == 0) what.erase(0, kRemote.size());
      return what;
    }
    return "accepted";
  }
};

TEST_F(EnrollmentTest, TheSessionCarriesTheEnrolledHostWhateverTheAgentClaims) {
  Agent a = agent();
  Key key = enroll(a, "agent-a", "web-1");
  EXPECT_EQ(key.key.size(), 64u);
  Hello h = helloWithKey(a, "agent-a", "db-1", key, 77);
  BatchMessage batch("agent-a", 1, outputLines(1, 3));
  EXPECT_EQ(push(h.ingest, batch), 3u);
  auto hosts = store_->hosts();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].agentId, "agent-a");
  EXPECT_EQ(hosts[0].host, "web-1");
  auto record = registry_->find("agent-a");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->generation, 77u);
  EXPECT_NE(record->keyDigest, key.key);  // only the digest is kept
  EXPECT_EQ(metrics_.enrollments.load(), 1u);
}

TEST_F(EnrollmentTest, ForgedIdentitiesAndMissingCredentialsAreRefused) {
  Agent a = agent();
  Key key = enroll(a, "agent-a", "web-1");
  Agent b = agent();
  Key wrong{std::string(64, '0'), key.generation};
  EXPECT_EQ(failure([&] { helloWithKey(b, "agent-a", "web-1", wrong, 5); }),
            "credentials not accepted");
  EXPECT_EQ(failure([&] { helloWithKey(b, "agent-b", "web-9", key, 5); }).rfind("not enrolled:", 0),
            0u);
  // The secret is for enrolling; it is no session credential, and no hello without one.
  EXPECT_EQ(failure([&] {
              hello(b, "agent-a", 1, "enroll-secret");
            }).rfind("credentials not accepted", 0),
            0u);
  EXPECT_EQ(failure([&] { hello(b, "agent-c", 1); }).rfind("credentials not accepted", 0), 0u);
  EXPECT_EQ(failure([&] { enroll(b, "agent-a", "web-9"); }).rfind("already enrolled:", 0), 0u);
  EXPECT_EQ(failure([&] { enroll(b, "agent-d", "web-4", "guess"); }), "credentials not accepted");
  EXPECT_TRUE(store_->hosts().empty());
}

TEST_F(EnrollmentTest, ACopyOfTheKeyIsReportedAsACloneAndALostAnswerIsRetried) {
  Agent original = agent();
  Key key = enroll(original, "agent-a", "web-1");
  helloWithKey(original, "agent-a", "web-1", key, 101);
  // The copy holds the key file as it was before the original's hello.
  Agent copy = agent();
  EXPECT_EQ(failure([&] {
              helloWithKey(copy, "agent-a", "web-1", key, 202);
            }).rfind("identity cloned:", 0),
            0u);
  EXPECT_EQ(metrics_.clonesReported.load(), 1u);
  EXPECT_EQ(registry_->find("agent-a")->clonesReported, 1u);
  // The original goes on; a hello whose answer it never saw (it asks for 303 again) still works.
  Agent again = agent();
  helloWithKey(again, "agent-a", "web-1", Key{key.key, 101}, 303);
  Agent retry = agent();
  helloWithKey(retry, "agent-a", "web-1", Key{key.key, 101}, 303);
  EXPECT_EQ(registry_->find("agent-a")->generation, 303u);
}

TEST_F(EnrollmentTest, ARevokedAgentLosesItsSessionAndCannotComeBack) {
  Agent a = agent();
  Key key = enroll(a, "agent-a", "web-1");
  Hello h = helloWithKey(a, "agent-a", "web-1", key, 11);
  BatchMessage first("agent-a", 1, outputLines(1, 2));
  EXPECT_EQ(push(h.ingest, first), 2u);
  EnrolledAgent record = *registry_->find("agent-a");
  record.revokedNs = clock_.nowNs();
  registry_->put(record);
  sessions_.end("agent-a");
  BatchMessage second("agent-a", 1, outputLines(3, 2));
  EXPECT_NE(refusal(h.ingest, second, 2).find("session ended:"), std::string::npos);
  Agent b = agent();
  EXPECT_EQ(failure([&] {
              helloWithKey(b, "agent-a", "web-1", Key{key.key, 11}, 12);
            }).rfind("revoked:", 0),
            0u);
  EXPECT_EQ(store_->highWater("agent-a", 1), 2u);
}

TEST_F(EnrollmentTest, ANewerSessionOfTheAgentEndsTheOlderOne) {
  Agent a = agent();
  Key key = enroll(a, "agent-a", "web-1");
  Hello older = helloWithKey(a, "agent-a", "web-1", key, 11);
  Agent b = agent();
  Hello newer = helloWithKey(b, "agent-a", "web-1", Key{key.key, 11}, 12);
  BatchMessage batch("agent-a", 1, outputLines(1, 2));
  EXPECT_NE(refusal(older.ingest, batch, 0).find("session ended:"), std::string::npos);
  EXPECT_EQ(push(newer.ingest, batch, 0), 2u);
}

TEST_F(IngestTest, AnOpenCollectorStillRefusesAnEnrolledAgentWithoutItsKey) {
  start();
  Agent a = agent();
  auto req = a.collector.enrollRequest();
  req.setSecret("x");
  req.getAgent().setAgentId("agent-a");
  req.getAgent().setHost("web-1");
  try {
    req.send().wait(ws());
    FAIL() << "enrolled without a configured secret";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("no enrollment secret"),
              std::string::npos);
  }
  EnrolledAgent enrolled;
  enrolled.agentId = "agent-a";
  enrolled.host = "web-1";
  enrolled.keyDigest = "00";
  registry_->put(enrolled);
  try {
    hello(a, "agent-a", 1);
    FAIL() << "an enrolled agent id was taken without its key";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("must present its key"),
              std::string::npos);
  }
  hello(a, "agent-b", 1);  // others are welcome
}

// Stored events are counted by kind: a redelivered prefix and a quarantined event are not.
TEST_F(IngestTest, StoredEventsAreCountedByKind) {
  start();
  Agent a = agent();
  Hello h = hello(a, "agent-a", 1);
  auto specs = outputLines(1, 4);
  specs[2].kind = "hook.exit";
  specs[3].kind = "oom.kill";
  BatchMessage first("agent-a", 1, specs);
  push(h.ingest, first, 0);
  specs = outputLines(1, 7);  // 1..4 again, then three more
  specs[4].kind = "oom.kill";
  specs[5].release = std::string(300, 'p');  // quarantined
  BatchMessage second("agent-a", 1, specs);
  push(h.ingest, second, 0);
  auto byKind = [&](std::string_view kind) {
    return metrics_
        .eventsStoredByKind[static_cast<std::size_t>(findKind(kind) - kEventKinds.data())]
        .load();
  };
  EXPECT_EQ(byKind("hook.output"), 3u);  // seqs 1, 2, 7
  EXPECT_EQ(byKind("hook.exit"), 1u);
  EXPECT_EQ(byKind("oom.kill"), 2u);
  EXPECT_EQ(metrics_.eventsStored.load(), 6u);
  EXPECT_NE(metrics_.prometheus().find("octolaunch_events_stored_total{kind=\"oom.kill\"} 2\n"),
            std::string::npos)
      << metrics_.prometheus();
}

// An agent that pushes and never reports (an older agent) is seen with its lag and no health; a
// report is kept as sent, sources sorted; a report over the limits is refused, the session lives.
TEST_F(IngestTest, AgentsAreSeenWithTheirLagAndTheHealthTheyReport) {
  start();
  clock_.now = 1'800'000'000'000'000'000;
  Agent a = agent();
  Hello h = hello(a, "agent-a", 1);
  auto specs = outputLines(1, 3);
  for (auto& spec : specs) spec.timeNs = clock_.now - 4'000'000'000;  // spooled 4 s ago
  BatchMessage batch("agent-a", 1, specs);
  push(h.ingest, batch, 0);
  auto status = metrics_.agents.find("agent-a");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->lastSeenNs, clock_.now);
  EXPECT_EQ(status->lagNs, 4'000'000'000);
  EXPECT_FALSE(status->health);

  auto report = h.ingest.reportRequest();
  auto health = report.initHealth();
  health.setSpoolEvents(12);
  health.setSpoolBytes(3400);
  health.setEventsShed(5);
  health.setRecordingFailures(1);
  auto sources = health.initSourceErrors(2);
  sources[0].setSource("psi");
  sources[0].setCount(1);
  sources[1].setSource("kmsg");
  sources[1].setCount(2);
  report.send().wait(ws());
  status = metrics_.agents.find("agent-a");
  ASSERT_TRUE(status && status->health);
  EXPECT_EQ(status->health->spoolEvents, 12u);
  EXPECT_EQ(status->health->spoolBytes, 3400u);
  EXPECT_EQ(status->health->eventsShed, 5u);
  EXPECT_EQ(status->health->shipLatencyNs, std::nullopt);  // the schema's default: none
  EXPECT_EQ(status->health->recordingFailures, 1u);
  EXPECT_EQ(status->health->sourceErrors,
            (std::vector<std::pair<std::string, std::uint64_t>>{{"kmsg", 2}, {"psi", 1}}));

  auto bad = h.ingest.reportRequest();
  bad.initHealth().initSourceErrors(1)[0].setSource("Bad Name\n");
  try {
    bad.send().wait(ws());
    ADD_FAILURE() << "a bad source name was taken";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("report refused:"), std::string::npos)
        << e.getDescription().cStr();
  }
  EXPECT_EQ(metrics_.reportsRejected.load(), 1u);
  EXPECT_EQ(metrics_.agents.find("agent-a")->health->spoolEvents, 12u);  // the good one stays
  BatchMessage more("agent-a", 1, outputLines(4, 5));
  EXPECT_EQ(push(h.ingest, more, 3), 5u);
}

}  // namespace
}  // namespace octolaunch::ingest
