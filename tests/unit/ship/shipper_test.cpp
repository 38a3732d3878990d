#include "agent/ship/shipper.h"

#include <capnp/message.h>
#include <capnp/rpc-twoparty.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "octolaunch/schema/rpc.capnp.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::agent {
namespace {

using schema::Event;
using testing::TempDir;

void appendLines(Spool& spool, int count, int from = 0) {
  capnp::MallocMessageBuilder arena;
  std::vector<capnp::Orphan<Event>> orphans;
  std::vector<Event::Reader> readers;
  for (int i = 0; i < count; ++i) {
    orphans.push_back(arena.getOrphanage().newOrphan<Event>());
    auto e = orphans.back().get();
    e.setTimeNs(1000 + from + i);
    e.getPayload().initHookOutput().setLine("line " + std::to_string(from + i));
  }
  for (auto& o : orphans) readers.push_back(o.getReader());
  spool.append(readers);
}

// One hook.block of three lines; the second is split in two pieces (same number).
void appendBlock(Spool& spool) {
  capnp::MallocMessageBuilder message;
  auto e = message.initRoot<Event>();
  e.setTimeNs(5000);
  auto block = e.getPayload().initHookBlock();
  block.setPhase("migrate");
  auto lines = block.initLines(4);
  const char* texts[] = {"one", "tw", "o", "three"};
  const std::uint32_t numbers[] = {1, 2, 2, 3};
  for (unsigned i = 0; i < 4; ++i) {
    lines[i].setLineNo(numbers[i]);
    lines[i].setText(texts[i]);
    lines[i].setAfterNs(i);
  }
  lines[3].setStream(schema::HookOutput::Stream::STDERR);
  const Event::Reader reader = e.asReader();
  spool.append({&reader, 1});
}

constexpr std::int64_t kMs = 1'000'000;

// The agent's wall clock, moved on only by the fake collector as it models the wire: 1 ms to it,
// 2 ms to answer, 1 ms back.
class WireClock final : public Clock {
 public:
  std::int64_t nowNs() const override { return now; }
  std::int64_t monotonicNs() const override { return now; }
  std::int64_t now = 1'800'000'000'000'000'000;
};

// What the collector says about its clock in an answer.
struct ClockStamps {
  std::int64_t receiveNs = 0;
  std::int64_t sendNs = 0;
};

// What a push said about the clocks.
struct PushClock {
  std::int64_t agentSendNs = 0;
  bool measured = false;
  std::int64_t offsetNs = 0;
  std::int64_t roundTripNs = 0;
};

// What the fake collector saw and how it behaves.
struct CollectorState {
  WireClock wire;
  bool stampClock = true;             // false: an older collector, its answers carry no stamps
  std::int64_t collectorAheadNs = 0;  // its clock minus the agent's
  std::vector<std::int64_t> helloSendNs;
  std::vector<PushClock> pushClocks;
  // Models the wire on the agent's clock and returns the collector's stamps.
  ClockStamps answerOnTheWire() {
    wire.now += 1 * kMs;
    ClockStamps stamps{wire.now + collectorAheadNs, 0};
    wire.now += 2 * kMs;
    stamps.sendNs = wire.now + collectorAheadNs;
    wire.now += 1 * kMs;
    return stampClock ? stamps : ClockStamps{};
  }

  std::string token = "good";
  bool commit = true;         // answer push with the high-water mark (false: with 0)
  bool holdReplies = false;   // keep push replies until released
  int dropAfterPushes = -1;   // drop every connection when this many pushes arrived
  bool refusePushes = false;  // fail every push, as a collector whose disk is full does
  std::vector<std::pair<std::uint64_t, std::uint64_t>> continuity;  // (previousSeq, first seq)
  std::map<std::uint64_t, std::uint64_t> highWater;  // per epoch: the store's committed-through seq
  std::map<std::uint64_t, std::string> stored;       // seq -> line
  std::set<std::string> agents, hosts;
  std::set<std::uint64_t> epochs;
  int hellos = 0;
  int badHellos = 0;
  int pushes = 0;
  int inflight = 0;
  int maxInflight = 0;
  std::vector<kj::Own<kj::PromiseFulfiller<void>>> held;
  std::function<void()> dropAll;
  bool takesReports = false;                // false: an older collector without Ingest.report
  std::vector<std::string> accepts;         // hello.accepts; empty: an older collector
  std::vector<std::uint32_t> blocksStored;  // lines of each hook.block pushed
  std::vector<AgentHealthReport> reports;
};

class FakeIngest final : public schema::Ingest::Server {
 public:
  FakeIngest(CollectorState& state, std::uint64_t epoch)
      : state_(state), helloEpoch_(epoch), epoch_(epoch) {}

 protected:
  kj::Promise<void> push(PushContext context) override {
    ++state_.pushes;
    if (state_.refusePushes) return KJ_EXCEPTION(OVERLOADED, "store is full");
    auto params = context.getParams();
    auto clock = params.getClock();
    state_.pushClocks.push_back(PushClock{params.getAgentSendNs(), clock.getMeasured(),
                                          clock.getOffsetNs(), clock.getRoundTripNs()});
    if (params.getEvents().size() > 0) {
      state_.continuity.emplace_back(params.getPreviousSeq(), params.getEvents()[0].getSeq());
    }
    for (auto e : params.getEvents()) {
      state_.agents.insert(e.getAgentId().cStr());
      state_.hosts.insert(e.getHost().cStr());
      state_.epochs.insert(e.getEpoch());
      epoch_ = e.getEpoch() == 0 ? helloEpoch_ : e.getEpoch();  // 0: the session's
      if (e.getSeq() > state_.highWater[epoch_]) {
        if (e.getPayload().isHookBlock()) {
          state_.blocksStored.push_back(e.getPayload().getHookBlock().getLines().size());
        } else {
          auto line = e.getPayload().getHookOutput();
          state_.stored[e.getSeq()] =
              std::string(line.getLine().cStr()) +
              (line.getLineNo() > 1 ? "@" + std::to_string(line.getLineNo()) : "") +
              (line.getStream() == schema::HookOutput::Stream::STDERR ? " (stderr)" : "");
        }
        state_.highWater[epoch_] = e.getSeq();
      }
    }
    if (state_.dropAfterPushes >= 0 && state_.pushes >= state_.dropAfterPushes) {
      state_.dropAfterPushes = -1;
      state_.dropAll();
      return kj::NEVER_DONE;
    }
    ++state_.inflight;
    state_.maxInflight = std::max(state_.maxInflight, state_.inflight);
    auto answer = [this, context]() mutable {
      --state_.inflight;
      auto results = context.getResults();
      results.setCommittedThroughSeq(state_.commit ? state_.highWater[epoch_] : 0);
      ClockStamps stamps = state_.answerOnTheWire();
      results.setCollectorReceiveNs(stamps.receiveNs);
      results.setCollectorSendNs(stamps.sendNs);
    };
    if (state_.holdReplies) {
      auto paf = kj::newPromiseAndFulfiller<void>();
      state_.held.push_back(kj::mv(paf.fulfiller));
      return paf.promise.then(kj::mv(answer));
    }
    answer();
    return kj::READY_NOW;
  }

  kj::Promise<void> report(ReportContext context) override {
    if (!state_.takesReports) return schema::Ingest::Server::report(kj::mv(context));
    auto h = context.getParams().getHealth();
    AgentHealthReport r{h.getSpoolEvents(), h.getSpoolBytes(),        h.getEventsShed(),
                        std::nullopt,       h.getRecordingFailures(), {}};
    if (h.getShipLatencyNs() >= 0) r.shipLatencyNs = h.getShipLatencyNs();
    for (auto e : h.getSourceErrors()) r.sourceErrors.emplace_back(e.getSource(), e.getCount());
    state_.reports.push_back(r);
    return kj::READY_NOW;
  }

 private:
  CollectorState& state_;
  std::uint64_t helloEpoch_;
  std::uint64_t epoch_;
};

class FakeCollector final : public schema::Collector::Server {
 public:
  explicit FakeCollector(CollectorState& state) : state_(state) {}

 protected:
  kj::Promise<void> hello(HelloContext context) override {
    auto params = context.getParams();
    if (params.getCredentials().getToken() != state_.token.c_str()) {
      ++state_.badHellos;
      return KJ_EXCEPTION(FAILED, "bad credentials");
    }
    ++state_.hellos;
    state_.helloSendNs.push_back(params.getAgentSendNs());
    auto results = context.getResults();
    ClockStamps stamps = state_.answerOnTheWire();
    results.setCollectorReceiveNs(stamps.receiveNs);
    results.setCollectorSendNs(stamps.sendNs);
    results.setIngest(kj::heap<FakeIngest>(state_, params.getEpoch()));
    results.setResumeAfterSeq(state_.highWater[params.getEpoch()]);
    auto accepts = results.initAccepts(static_cast<unsigned>(state_.accepts.size()));
    for (unsigned i = 0; i < state_.accepts.size(); ++i) accepts.set(i, state_.accepts[i]);
    return kj::READY_NOW;
  }

 private:
  CollectorState& state_;
};

// Accepts connections on loopback; each gets its own RPC system, so the test can drop them.
class FakeServer {
 public:
  FakeServer(kj::AsyncIoContext& io, CollectorState& state) : state_(state), tasks_(handler_) {
    auto addr = io.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io.waitScope);
    listener_ = addr->listen();
    port_ = listener_->getPort();
    state_.dropAll = [this]() {
      state_.held.clear();
      connections_.clear();
    };
    tasks_.add(acceptLoop());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  struct Connection {
    kj::Own<kj::AsyncIoStream> stream;
    kj::Own<capnp::TwoPartyVatNetwork> network;
    kj::Own<capnp::RpcSystem<capnp::rpc::twoparty::VatId>> rpc;
  };
  struct Handler final : kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&&) override {}
  };
  kj::Promise<void> acceptLoop() {
    return listener_->accept().then([this](kj::Own<kj::AsyncIoStream> stream) {
      auto c = kj::heap<Connection>();
      c->stream = kj::mv(stream);
      c->network =
          kj::heap<capnp::TwoPartyVatNetwork>(*c->stream, capnp::rpc::twoparty::Side::SERVER);
      c->rpc = kj::heap<capnp::RpcSystem<capnp::rpc::twoparty::VatId>>(capnp::makeRpcServer(
          *c->network, capnp::Capability::Client(kj::heap<FakeCollector>(state_))));
      connections_.push_back(kj::mv(c));
      return acceptLoop();
    });
  }
  CollectorState& state_;
  Handler handler_;
  kj::Own<kj::ConnectionReceiver> listener_;
  unsigned port_ = 0;
  std::vector<kj::Own<Connection>> connections_;
  kj::TaskSet tasks_;
};

class ShipperTest : public ::testing::Test {
 protected:
  ShipperTest()
      : io_(kj::setupAsyncIo()),
        spool_(Spool::open({dir_ / "spool", 64 << 20})),
        server_(io_, state_),
        logStream_(std::make_shared<std::ostringstream>()),
        logger_(std::make_shared<spdlog::logger>(
            "ship-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(*logStream_))) {}
  // KJ members' destructors are noexcept(false); gtest's is not.
  ~ShipperTest() noexcept override {}

  ShipperOptions options() {
    ShipperOptions o;
    o.collector = server_.address();
    o.agentId = "agent-1";
    o.host = "web-1";
    o.token = "good";
    o.version = "test";
    o.batchMaxEvents = 100;
    o.window = 2;
    o.backoffMaxMs = 400;
    o.recheckMs = 60000;  // far away: a test passing on time proves the wake-up, not the re-check
    return o;
  }

  // Runs the event loop until pred() or the deadline.
  bool runUntil(const std::function<bool()>& pred, int ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.provider->getTimer().afterDelay(2 * kj::MILLISECONDS).wait(io_.waitScope);
    }
    return true;
  }

  TempDir dir_;
  kj::AsyncIoContext io_;
  std::unique_ptr<Spool> spool_;
  CollectorState state_;
  FakeServer server_;
  WireClock& clock_ = state_.wire;  // the agent's clock, which the fake collector moves on
  std::shared_ptr<std::ostringstream> logStream_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(ShipperTest, ShipsEverythingAndDeletesWhatWasAcknowledged) {
  appendLines(*spool_, 1000);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; })) << state_.stored.size();
  ASSERT_EQ(state_.stored.size(), 1000u);
  EXPECT_EQ(state_.stored.begin()->first, 1u);
  EXPECT_EQ(state_.stored.rbegin()->first, 1000u);
  EXPECT_EQ(state_.stored[1000], "line 999");
  EXPECT_EQ(state_.agents, std::set<std::string>{"agent-1"});
  EXPECT_EQ(state_.hosts, std::set<std::string>{"web-1"});
  EXPECT_EQ(state_.epochs, std::set<std::uint64_t>{spool_->epoch()});
  EXPECT_LE(state_.maxInflight, 2);
  EXPECT_EQ(shipper.stats().ackedThrough, 1000u);
}

// The clock exchange: hello and every push carry when the agent sent them; each push reports
// the best sample so far (the hello's round trip of 2 ms, on a wire that does not queue). The
// events waited an hour in the spool (an outage): that is not part of any sample.
TEST_F(ShipperTest, ReportsTheCollectorsClockOffsetInEveryPush) {
  appendLines(*spool_, 300);              // timeNs ~1000: long before the clock's now
  state_.collectorAheadNs = -2500 * kMs;  // the collector's clock is 2.5 s behind
  const std::int64_t start = clock_.now;
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  ASSERT_EQ(state_.helloSendNs, std::vector<std::int64_t>{start});
  ASSERT_EQ(state_.pushClocks.size(), 3u);
  // Stamped when sent (as the hello's answer arrived, 4 ms on the wire), not when spooled.
  EXPECT_EQ(state_.pushClocks[0].agentSendNs, start + 4 * kMs);
  std::int64_t previousSend = start;
  for (const PushClock& push : state_.pushClocks) {
    EXPECT_GE(push.agentSendNs, previousSend);
    previousSend = push.agentSendNs;
    EXPECT_TRUE(push.measured);
    EXPECT_EQ(push.offsetNs, -2500 * kMs);
    EXPECT_EQ(push.roundTripNs, 2 * kMs);
  }
  EXPECT_EQ(shipper.clockOffset(), (ClockSample{-2500 * kMs, 2 * kMs}));
}

// Blocks go out as they are to a collector that names them in hello.accepts; an older one gets
// each block as one hook.output whose line holds the block's lines (split pieces rejoined).
TEST_F(ShipperTest, BlocksGoToACollectorThatTakesThemAndAreJoinedForAnOlderOne) {
  appendLines(*spool_, 1);
  appendBlock(*spool_);
  {
    Shipper shipper(io_, *spool_, clock_, options(), logger_);
    auto task = shipper.run().eagerlyEvaluate(nullptr);
    ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  }
  EXPECT_EQ(state_.blocksStored, std::vector<std::uint32_t>{});
  EXPECT_EQ(state_.stored[2], "one\ntwo\nthree (stderr)");

  state_.accepts = {"somethingElse", "hookBlock"};
  appendBlock(*spool_);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  EXPECT_EQ(state_.blocksStored, std::vector<std::uint32_t>{4});
  EXPECT_EQ(state_.stored.count(3), 0u);
}

// A collector that names "sessionEnvelope" stamps agent id, host and epoch from the session:
// the events go without them. An older one gets them in every event.
TEST_F(ShipperTest, TheEnvelopeTravelsOnlyToACollectorThatDoesNotStampTheSessions) {
  appendLines(*spool_, 3);
  {
    Shipper shipper(io_, *spool_, clock_, options(), logger_);
    auto task = shipper.run().eagerlyEvaluate(nullptr);
    ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  }
  EXPECT_EQ(state_.agents, std::set<std::string>{"agent-1"});
  EXPECT_EQ(state_.hosts, std::set<std::string>{"web-1"});
  EXPECT_EQ(state_.epochs, std::set<std::uint64_t>{spool_->epoch()});

  state_.agents.clear();
  state_.hosts.clear();
  state_.epochs.clear();
  state_.accepts = {"hookBlock", "sessionEnvelope"};
  appendLines(*spool_, 2, 10);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  EXPECT_EQ(state_.agents, std::set<std::string>{""});
  EXPECT_EQ(state_.hosts, std::set<std::string>{""});
  EXPECT_EQ(state_.epochs, std::set<std::uint64_t>{0});
  EXPECT_EQ(state_.stored.size(), 5u) << "the session's epoch carries on where the other left";
}

TEST_F(ShipperTest, AnOlderCollectorsUnstampedAnswersLeaveTheClockUnmeasured) {
  state_.stampClock = false;
  appendLines(*spool_, 300);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  ASSERT_EQ(state_.pushClocks.size(), 3u);
  for (const PushClock& push : state_.pushClocks) {
    EXPECT_NE(push.agentSendNs, 0);
    EXPECT_FALSE(push.measured);
  }
  EXPECT_EQ(shipper.clockOffset(), std::nullopt);
}

TEST_F(ShipperTest, NeverDeletesWithoutACommittedSeq) {
  state_.commit = false;  // the collector answers, but acknowledges nothing
  appendLines(*spool_, 500);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.stored.size() == 500 && state_.inflight == 0; }));
  runUntil([] { return false; }, 100);
  EXPECT_EQ(spool_->pendingCount(), 500u);
  EXPECT_EQ(shipper.stats().ackedThrough, 0u);
}

TEST_F(ShipperTest, KeepsAtMostWindowPushesUnanswered) {
  state_.holdReplies = true;
  appendLines(*spool_, 1000);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.inflight == 2; }));
  runUntil([] { return false; }, 200);
  EXPECT_EQ(state_.pushes, 2);  // the window is full: nothing more is sent
  EXPECT_EQ(spool_->pendingCount(), 1000u);
  state_.holdReplies = false;
  for (auto& f : state_.held) f->fulfill();
  state_.held.clear();
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  EXPECT_EQ(state_.maxInflight, 2);
  EXPECT_EQ(state_.stored.size(), 1000u);
}

TEST_F(ShipperTest, ReconnectsAfterADropAndResendsWhatWasNotAcknowledged) {
  state_.dropAfterPushes = 3;
  appendLines(*spool_, 1000);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; })) << logStream_->str();
  EXPECT_GE(state_.hellos, 2);
  EXPECT_EQ(state_.stored.size(), 1000u);
  EXPECT_GE(shipper.stats().sessions, 2u);
  EXPECT_NE(logStream_->str().find("lost collector"), std::string::npos) << logStream_->str();
}

TEST_F(ShipperTest, EachPushSaysWhereItContinuesFrom) {
  appendLines(*spool_, 350);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  using Step = std::pair<std::uint64_t, std::uint64_t>;
  EXPECT_EQ(state_.continuity, (std::vector<Step>{{0, 1}, {100, 101}, {200, 201}, {300, 301}}));
}

TEST_F(ShipperTest, ACollectorThatRefusesEveryPushIsRetriedAtTheBackoffPace) {
  state_.refusePushes = true;  // hello() works, every push fails (its disk is full)
  appendLines(*spool_, 10);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.hellos >= 1; }));
  runUntil([] { return false; }, 1500);
  // Backoff 100, 200, 400, 400, ... ms: at most 6 sessions in 1.5 s (one every 100 ms when a
  // successful hello restarted the backoff).
  EXPECT_GE(state_.hellos, 2);
  EXPECT_LE(state_.hellos, 6);
  EXPECT_EQ(spool_->pendingCount(), 10u);
  state_.refusePushes = false;
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  EXPECT_EQ(state_.stored.size(), 10u);
}

TEST_F(ShipperTest, RejectedCredentialsKeepTheSpoolAndLogOnce) {
  state_.token = "other";
  appendLines(*spool_, 10);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.badHellos >= 3; }));
  EXPECT_EQ(spool_->pendingCount(), 10u);
  std::string log = logStream_->str();
  std::size_t first = log.find("bad credentials");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("bad credentials", first + 1), std::string::npos) << "logged per attempt:\n"
                                                                       << log;
  // Accepted again: everything goes.
  state_.token = "good";
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
}

// A collector that claims seqs this spool never assigned (another host with the same agent id
// and a copy of this spool) is believed only up to the spool's last seq, counted each session and
// logged once.
TEST_F(ShipperTest, AClaimBeyondTheSpoolIsCappedCountedAndLoggedOnce) {
  appendLines(*spool_, 10);
  state_.highWater[spool_->epoch()] = 1000;
  state_.dropAfterPushes = 1;  // the push below ends the first session: a second hello follows
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.hellos == 1; }));
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  EXPECT_EQ(shipper.stats().ackedThrough, 10u) << "capped at the spool's last seq";
  appendLines(*spool_, 1, 10);
  ASSERT_TRUE(runUntil([&] { return shipper.stats().claimsBeyondSpool == 2; }))
      << shipper.stats().claimsBeyondSpool;
  const std::string log = logStream_->str();
  const std::size_t first = log.find("claims this spool");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_NE(log.find("through seq 1000, but the spool assigned only through seq 10", first),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("may share agent id agent-1", first), std::string::npos) << log;
  EXPECT_EQ(log.find("claims this spool", first + 1), std::string::npos) << "logged twice:\n"
                                                                         << log;
}

TEST_F(ShipperTest, CollectorDownAtStartThenUp) {
  auto o = options();
  // A port where nothing listens yet: take one and close it.
  unsigned port = 0;
  {
    auto addr = io_.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io_.waitScope);
    auto l = addr->listen();
    port = l->getPort();
  }
  o.collector = "127.0.0.1:" + std::to_string(port);
  appendLines(*spool_, 50);
  Shipper shipper(io_, *spool_, clock_, o, logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  runUntil([] { return false; }, 300);
  EXPECT_EQ(spool_->pendingCount(), 50u);
  EXPECT_NE(logStream_->str().find("Connection refused"), std::string::npos) << logStream_->str();
}

// The daemon's sources append from their own thread and call nothing: the shipper sees the
// append on the spool's file, as it sees another process's.
TEST_F(ShipperTest, WakesPromptlyOnAppendFromAnotherThread) {
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.hellos == 1; }));
  runUntil([] { return false; }, 50);
  auto start = std::chrono::steady_clock::now();
  std::thread source([&] { appendLines(*spool_, 5); });
  ASSERT_TRUE(runUntil([&] { return state_.stored.size() == 5; }, 3000));
  source.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(ShipperTest, WakesPromptlyOnAppendFromAnotherProcess) {
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return state_.hellos == 1; }));
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    try {
      auto other = Spool::open({dir_ / "spool", 64 << 20});  // its own environment, as `hook` has
      appendLines(*other, 7);
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(runUntil([&] { return state_.stored.size() == 7; }, 3000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(ShipperTest, ASpoolReplacedUnderTheDaemonIsShippedWithItsNewEpoch) {
  appendLines(*spool_, 20);
  Shipper shipper(io_, *spool_, clock_, options(), logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  std::uint64_t oldEpoch = spool_->epoch();
  // A reinstall: the spool is deleted and a hook creates a new one (new epoch, seq from 1).
  std::filesystem::remove_all(dir_ / "spool");
  {
    pid_t pid = fork();
    if (pid == 0) {
      try {
        auto fresh = Spool::open({dir_ / "spool", 64 << 20});
        appendLines(*fresh, 3, 100);
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ASSERT_TRUE(runUntil([&] { return state_.epochs.size() == 2; }, 10000)) << logStream_->str();
  EXPECT_NE(spool_->epoch(), oldEpoch);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  EXPECT_EQ(state_.hellos, 2);
}

// Health: a report after hello (the spool as it stood), then every healthReportMs, with what the
// daemon adds; a later one shows the acknowledged push's round trip and the emptied spool.
TEST_F(ShipperTest, ReportsItsHealthAfterHelloAndPeriodically) {
  state_.takesReports = true;
  appendLines(*spool_, 100);
  ShipperOptions o = options();
  o.healthReportMs = 20;
  Shipper shipper(io_, *spool_, clock_, o, logger_);
  shipper.reportHealthFrom([](AgentHealthReport& report) {
    report.recordingFailures = 1;
    report.sourceErrors = {{"kmsg", 2}};
  });
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] {
    return spool_->pendingCount() == 0 && !state_.reports.empty() &&
           state_.reports.back().spoolEvents == 0;
  }));
  const AgentHealthReport& first = state_.reports.front();
  EXPECT_EQ(first.spoolEvents, 100u);
  EXPECT_GT(first.spoolBytes, 0u);
  EXPECT_EQ(first.shipLatencyNs, std::nullopt);  // nothing acknowledged yet
  EXPECT_EQ(first.recordingFailures, 1u);
  EXPECT_EQ(first.sourceErrors, (std::vector<std::pair<std::string, std::uint64_t>>{{"kmsg", 2}}));
  const AgentHealthReport& last = state_.reports.back();
  EXPECT_EQ(last.spoolBytes, 0u);
  ASSERT_TRUE(last.shipLatencyNs);
  EXPECT_GE(*last.shipLatencyNs, 0);
  EXPECT_EQ(state_.hellos, 1);
}

// An older collector answers report() UNIMPLEMENTED: shipping goes on in the same session, the
// agent says so once and sends no more reports.
TEST_F(ShipperTest, AnOlderCollectorWithoutReportsKeepsTheSession) {
  appendLines(*spool_, 300);
  ShipperOptions o = options();
  o.healthReportMs = 10;
  Shipper shipper(io_, *spool_, clock_, o, logger_);
  auto task = shipper.run().eagerlyEvaluate(nullptr);
  ASSERT_TRUE(runUntil([&] { return spool_->pendingCount() == 0; }));
  io_.provider->getTimer().afterDelay(50 * kj::MILLISECONDS).wait(io_.waitScope);
  EXPECT_EQ(state_.hellos, 1);
  EXPECT_EQ(shipper.stats().healthReports, 0u);
  const std::string log = logStream_->str();
  const auto said = log.find("does not take health reports");
  ASSERT_NE(said, std::string::npos) << log;
  EXPECT_EQ(log.find("does not take health reports", said + 1), std::string::npos) << log;
}

}  // namespace
}  // namespace octolaunch::agent
