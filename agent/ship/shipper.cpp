#include "agent/ship/shipper.h"

#include <capnp/rpc-twoparty.h>
#include <capnp/serialize.h>

#include <algorithm>

#include "octolaunch/schema/rpc.capnp.h"
#include "shared/event/hook_block.h"
#include "shared/tls/tls_files.h"

namespace octolaunch::agent {

using schema::Event;

// One connection: hello, then pushes within the window until something fails.
class Shipper::Session final : private kj::TaskSet::ErrorHandler {
 public:
  Session(Shipper& shipper, kj::Own<kj::AsyncIoStream> stream)
      : shipper_(shipper), stream_(kj::mv(stream)), client_(*stream_), tasks_(*this) {
    auto paf = kj::newPromiseAndFulfiller<void>();
    failed_ = kj::mv(paf.promise);
    failFulfiller_ = kj::mv(paf.fulfiller);
  }

  // Rejects when the session ends (it never resolves).
  kj::Promise<void> run() {
    auto collector = client_.bootstrap().castAs<schema::Collector>();
    auto session = shipper_.io_.provider->getTimer()
                       .timeoutAfter(shipper_.options_.connectTimeoutMs * kj::MILLISECONDS,
                                     enrollIfNeeded(collector))
                       .then([this, collector]() mutable { return hello(collector); });
    auto disconnected = client_.onDisconnect().then([]() -> kj::Promise<void> {
      return KJ_EXCEPTION(DISCONNECTED, "the collector closed the connection");
    });
    return session.exclusiveJoin(kj::mv(failed_)).exclusiveJoin(kj::mv(disconnected));
  }

 private:
  // Without a key but with an enrollment secret: enroll() first, and keep the key.
  kj::Promise<void> enrollIfNeeded(schema::Collector::Client& collector) {
    if (shipper_.key_ && !shipper_.key_->key.empty()) return kj::READY_NOW;
    if (shipper_.options_.token.empty()) return kj::READY_NOW;  // an open collector
    auto request = collector.enrollRequest();
    request.setSecret(shipper_.options_.token);
    fillAgentInfo(request.initAgent());
    return request.send().then(
        [this](capnp::Response<schema::Collector::EnrollResults>&& r) -> kj::Promise<void> {
          shipper_.noteEnrolled(std::string(r.getAgentKey().cStr()), r.getGeneration());
          return kj::READY_NOW;
        },
        [](kj::Exception&& e) -> kj::Promise<void> {
          // A collector older than enrollment: the token goes in hello() as it always did.
          if (e.getType() == kj::Exception::Type::UNIMPLEMENTED) return kj::READY_NOW;
          return kj::mv(e);
        });
  }

  void fillAgentInfo(schema::AgentInfo::Builder agent) {
    agent.setAgentId(shipper_.agentId_);
    agent.setHost(shipper_.options_.host);
    agent.setVersion(shipper_.options_.version);
  }

  kj::Promise<void> hello(schema::Collector::Client& collector) {
    auto request = collector.helloRequest();
    fillAgentInfo(request.initAgent());
    epoch_ = shipper_.spool_.epoch();
    request.setEpoch(epoch_);
    auto credentials = request.initCredentials();
    if (AgentKey* key = shipper_.keyForHello()) {
      credentials.setAgentKey(key->key);
      credentials.setGeneration(key->generation);
      credentials.setNextGeneration(key->nextGeneration);
    } else {
      credentials.setToken(shipper_.options_.token);
    }
    const std::int64_t sentNs = shipper_.clock_.nowNs();
    request.setAgentSendNs(sentNs);
    auto hello = shipper_.io_.provider->getTimer().timeoutAfter(
        shipper_.options_.connectTimeoutMs * kj::MILLISECONDS, request.send());
    return hello.then([this, sentNs](capnp::Response<schema::Collector::HelloResults>&& response) {
      shipper_.noteHelloAccepted();
      shipper_.noteClockStamps(sentNs, response.getCollectorReceiveNs(),
                               response.getCollectorSendNs());
      ingest_ = response.getIngest();
      acceptsBlocks_ = false;
      sessionEnvelope_ = false;
      for (auto word : response.getAccepts()) {
        acceptsBlocks_ = acceptsBlocks_ || word == "hookBlock";
        sessionEnvelope_ = sessionEnvelope_ || word == "sessionEnvelope";
      }
      std::uint64_t resume = response.getResumeAfterSeq();
      // Never past what this spool ever assigned: a collector claiming more is not believed.
      std::uint64_t last = shipper_.spool_.lastSeq();
      if (resume > last) shipper_.noteClaimBeyondSpool(resume, last);
      ack(std::min(resume, last));
      sentThrough_ = std::max(std::min(resume, last), ackedThrough_);
      shipper_.noteConnected(resume);
      lastPushAt_ = timer().now();
      return pumpLoop().exclusiveJoin(keepAlive()).exclusiveJoin(reportLoop());
    });
  }

  kj::Timer& timer() { return shipper_.io_.provider->getTimer(); }

  // Never resolves: pings when no push went out for keepaliveMs; rejects when a ping is not
  // answered in time.
  kj::Promise<void> keepAlive() {
    const kj::Duration interval = shipper_.options_.keepaliveMs * kj::MILLISECONDS;
    return timer().atTime(lastPushAt_ + interval).then([this, interval]() -> kj::Promise<void> {
      if (timer().now() - lastPushAt_ < interval) return keepAlive();
      auto ping = client_.bootstrap().whenResolved();
      return timer()
          .timeoutAfter(shipper_.options_.connectTimeoutMs * kj::MILLISECONDS, kj::mv(ping))
          .then([this]() {
            lastPushAt_ = timer().now();
            return keepAlive();
          });
    });
  }

  // Never resolves: reports the agent's health now and every healthReportMs; stops reporting
  // (without ending the session) when the collector does not know report() or refuses it.
  kj::Promise<void> reportLoop() {
    auto request = ingest_.reportRequest();
    fillAgentHealth(request.initHealth(), shipper_.health());
    return request.send().then(
        [this](capnp::Response<schema::Ingest::ReportResults>&&) {
          ++shipper_.stats_.healthReports;
          return timer()
              .afterDelay(shipper_.options_.healthReportMs * kj::MILLISECONDS)
              .then([this]() { return reportLoop(); });
        },
        [this](kj::Exception&& e) -> kj::Promise<void> {
          if (e.getType() == kj::Exception::Type::DISCONNECTED) return kj::mv(e);
          if (!shipper_.healthRefusalLogged_) {
            shipper_.healthRefusalLogged_ = true;
            const bool old = e.getType() == kj::Exception::Type::UNIMPLEMENTED;
            shipper_.logger_->log(
                old ? spdlog::level::info : spdlog::level::warn,
                "collector {} {}: no health reports this session", shipper_.options_.collector,
                old ? "does not take health reports (an older collector)"
                    : std::string("refused a health report: ") + e.getDescription().cStr());
          }
          return kj::NEVER_DONE;
        });
  }

  void taskFailed(kj::Exception&& exception) override {
    if (failFulfiller_->isWaiting()) failFulfiller_->reject(kj::mv(exception));
  }

  kj::Promise<void> pumpLoop() {
    if (shipper_.reopenSpoolIfReplaced()) {
      // A new spool is a new epoch: say hello again.
      return KJ_EXCEPTION(DISCONNECTED,
                          "the spool was replaced (new epoch); starting a new session");
    }
    fill();
    return shipper_.wake_.wait().then([this]() { return pumpLoop(); });
  }

  // Sends batches while the window has room and the spool has events after sentThrough_.
  void fill() {
    while (inflight_ < shipper_.options_.window) {
      std::uint64_t firstSeq = 0;
      std::uint64_t lastSeq = 0;
      // Collect first (aligned copies), then size the list exactly.
      std::vector<kj::Array<capnp::word>> copies;
      if (shipper_.spool_.epoch() != epoch_) return;
      shipper_.spool_.readAfter(sentThrough_, shipper_.options_.batchMaxEvents,
                                [&](std::uint64_t seq, kj::ArrayPtr<const capnp::word> words) {
                                  if (firstSeq == 0) firstSeq = seq;
                                  lastSeq = seq;
                                  copies.push_back(kj::heapArray(words));
                                });
      if (copies.empty()) {
        if (inflight_ == 0) shipper_.backoffMs_ = 100;  // the collector has everything
        return;
      }
      // Size the request's first segment for the whole batch (plus agentId/host per event unless
      // the collector stamps the session's): one allocation instead of a chain of growing
      // segments.
      std::size_t words = 16;
      const std::size_t perEvent =
          sessionEnvelope_ ? 2
                           : 2 + (shipper_.agentId_.size() + shipper_.options_.host.size()) / 8 + 2;
      for (const auto& c : copies) words += c.size() + perEvent;
      auto request = ingest_.pushRequest(capnp::MessageSize{words, 0});
      auto list = request.initEvents(static_cast<unsigned>(copies.size()));
      for (unsigned i = 0; i < copies.size(); ++i) {
        capnp::FlatArrayMessageReader reader(copies[i]);
        const Event::Reader stored = reader.getRoot<Event>();
        list.setWithCaveats(i, stored);
        auto e = list[i];
        if (!acceptsBlocks_ && stored.getPayload().isHookBlock()) {
          joinBlock(stored.getPayload().getHookBlock(), e.getPayload().initHookOutput());
        }
        if (sessionEnvelope_) {
          e.setEpoch(0);  // the session's: the collector stamps agent id, host and epoch
        } else {
          e.setAgentId(shipper_.agentId_);
          e.setHost(shipper_.options_.host);
          e.setEpoch(epoch_);  // stored under an earlier epoch when the spool started a new one
        }
      }
      request.setPreviousSeq(sentThrough_);
      if (auto best = shipper_.clockEstimate_.best()) {
        auto clock = request.initClock();
        clock.setOffsetNs(best->offsetNs);
        clock.setRoundTripNs(best->roundTripNs);
        clock.setMeasured(true);
      }
      sentThrough_ = lastSeq;
      ++inflight_;
      lastPushAt_ = timer().now();
      shipper_.stats_.eventsSent += copies.size();
      const std::int64_t sentNs = shipper_.clock_.nowNs();
      request.setAgentSendNs(sentNs);
      const kj::TimePoint sentAt = timer().now();
      tasks_.add(request.send().then(
          [this, sentNs, sentAt](capnp::Response<schema::Ingest::PushResults>&& response) {
            shipper_.stats_.lastAckRoundTripNs = (timer().now() - sentAt) / kj::NANOSECONDS;
            shipper_.noteClockStamps(sentNs, response.getCollectorReceiveNs(),
                                     response.getCollectorSendNs());
            --inflight_;
            shipper_.backoffMs_ = 100;
            // The explicit acknowledgement: the collector committed through this seq.
            ackSoon(std::min<std::uint64_t>(response.getCommittedThroughSeq(), sentThrough_));
            fill();
          }));
    }
  }

  // Deleting costs a synced spool commit: acknowledged seqs are deleted together, kAckDelay
  // after the first of them (or at once when many are waiting). Until then they stay in the
  // spool; after a crash they are resent and the collector drops them.
  void ackSoon(std::uint64_t seq) {
    if (seq <= ackedThrough_) return;
    ackPending_ = std::max(ackPending_, seq);
    if (ackPending_ - ackedThrough_ >= kAckNowEvents) {
      ack(ackPending_);
      return;
    }
    if (ackScheduled_) return;
    ackScheduled_ = true;
    tasks_.add(shipper_.io_.provider->getTimer().afterDelay(kAckDelay).then([this]() {
      ackScheduled_ = false;
      ack(ackPending_);
    }));
  }

  void ack(std::uint64_t seq) {
    if (seq <= ackedThrough_) return;
    // Seqs of this session's epoch only: never delete from a spool that replaced it.
    if (shipper_.spool_.epoch() != epoch_) return;
    shipper_.spool_.ackThrough(seq);
    ackedThrough_ = seq;
    shipper_.stats_.ackedThrough = std::max(shipper_.stats_.ackedThrough, seq);
  }

  Shipper& shipper_;
  kj::Own<kj::AsyncIoStream> stream_;
  capnp::TwoPartyClient client_;
  schema::Ingest::Client ingest_ = nullptr;
  kj::Promise<void> failed_ = nullptr;
  kj::Own<kj::PromiseFulfiller<void>> failFulfiller_;
  static constexpr kj::Duration kAckDelay = 100 * kj::MILLISECONDS;
  static constexpr std::uint64_t kAckNowEvents = 20000;
  std::uint64_t epoch_ = 0;       // the spool epoch this session said hello with
  bool acceptsBlocks_ = false;    // the collector named "hookBlock" in hello.accepts
  bool sessionEnvelope_ = false;  // ... and "sessionEnvelope"
  std::uint64_t ackPending_ = 0;  // committed by the collector, not yet deleted here
  bool ackScheduled_ = false;
  std::uint64_t sentThrough_ = 0;
  std::uint64_t ackedThrough_ = 0;
  std::uint32_t inflight_ = 0;
  kj::TimePoint lastPushAt_ = kj::origin<kj::TimePoint>();  // or the last keepalive's answer
  kj::TaskSet tasks_;  // last: destroyed (cancelling pushes) before the client they use
};

Shipper::Shipper(kj::AsyncIoContext& io, Spool& spool, const Clock& clock, ShipperOptions options,
                 std::shared_ptr<spdlog::logger> logger)
    : io_(io),
      spool_(spool),
      clock_(clock),
      options_(std::move(options)),
      logger_(std::move(logger)),
      wake_(io.unixEventPort, io.provider->getTimer(), spool.dataFile(),
            options_.recheckMs * kj::MILLISECONDS),
      agentId_(options_.agentId) {
  loadIdentity();
}

void Shipper::loadIdentity() {
  if (options_.keyFile.empty()) return;
  std::optional<AgentKey> key;
  try {
    key = loadAgentKey(options_.keyFile);
  } catch (const std::exception& e) {
    logger_->error("{}; this agent cannot present its key", e.what());
    return;
  }
  if (!key) return;
  if (key->configuredAgentId != options_.agentId) {
    logger_->warn("{} holds the key of agent {}, but this agent is configured as {}: enrolling {}",
                  options_.keyFile.string(), key->configuredAgentId, options_.agentId,
                  options_.agentId);
    return;
  }
  agentId_ = key->agentId;
  key_ = std::move(key);
}

void Shipper::saveKey() {
  try {
    saveAgentKey(options_.keyFile, *key_);
  } catch (const std::exception& e) {
    // The key stays in memory for this process; a restart must enroll again.
    logger_->error("{}", e.what());
  }
}

void Shipper::noteEnrolled(std::string key, std::uint64_t generation) {
  key_ = AgentKey{options_.agentId, agentId_, std::move(key), generation, 0};
  logger_->info("enrolled with collector {} as agent {} (key in {})", options_.collector, agentId_,
                options_.keyFile.string());
  if (!options_.keyFile.empty()) saveKey();
}

AgentKey* Shipper::keyForHello() {
  if (!key_ || key_->key.empty()) return nullptr;
  // A pending generation (the answer to an earlier hello was lost) is asked for again.
  if (key_->nextGeneration == 0) {
    key_->nextGeneration = randomGeneration();
    if (!options_.keyFile.empty()) saveAgentKey(options_.keyFile, *key_);  // before it is sent
  }
  return &*key_;
}

void Shipper::noteHelloAccepted() {
  if (!key_ || key_->nextGeneration == 0) return;
  key_->generation = key_->nextGeneration;
  key_->nextGeneration = 0;
  if (!options_.keyFile.empty()) saveKey();
}

void Shipper::noteRefusal(const std::string& what) {
  if (what.find("identity cloned:") != std::string::npos) {
    // Another installation holds this identity: this one becomes a new agent with a new epoch,
    // so neither its events nor the original's are taken for the other's.
    const std::string previous = agentId_;
    constexpr std::size_t kMaxBase = 255 - 9;
    agentId_ = options_.agentId.substr(0, kMaxBase) + "-" + randomSuffix();
    const std::uint64_t epoch = spool_.startNewEpoch();
    if (!options_.keyFile.empty()) {
      std::error_code ignored;
      std::filesystem::rename(options_.keyFile, options_.keyFile.string() + ".cloned", ignored);
    }
    key_ = AgentKey{options_.agentId, agentId_, "", 0, 0};
    if (!options_.keyFile.empty()) saveKey();
    logger_->error(
        "the collector reports that another installation holds agent {}'s key (this machine is a "
        "clone?): enrolling as new agent {} with spool epoch {:016x}{}",
        previous, agentId_, epoch,
        options_.token.empty() ? "; no enrollment secret is configured ([token]): set one" : "");
  } else if (what.find("not enrolled:") != std::string::npos && key_ && !key_->key.empty()) {
    logger_->warn("the collector does not know agent {}'s key: enrolling again", agentId_);
    key_->key.clear();
    key_->generation = key_->nextGeneration = 0;
  }
}

Shipper::~Shipper() = default;

AgentHealthReport Shipper::health() {
  AgentHealthReport report;
  try {
    const SpoolStats spool = spool_.stats();
    report.spoolEvents = spool.pendingEvents;
    report.spoolBytes = spool.storedBytes;
    report.eventsShed = spool.shedTotal;
  } catch (const std::exception& e) {
    logger_->debug("health report without the spool's figures: {}", e.what());
  }
  report.shipLatencyNs = stats_.lastAckRoundTripNs;
  if (addHealth_) addHealth_(report);
  return report;
}

kj::Promise<void> Shipper::run() { return connectLoop(); }

kj::Promise<void> Shipper::connectLoop() {
  return connectOnce().then(
      [this]() { return connectLoop(); },
      [this](kj::Exception&& e) -> kj::Promise<void> {
        noteProblem(e);
        auto delay = backoffMs_ * kj::MILLISECONDS;
        backoffMs_ = std::min(backoffMs_ * 2, std::max<std::uint32_t>(options_.backoffMaxMs, 100));
        return io_.provider->getTimer().afterDelay(delay).then([this]() { return connectLoop(); });
      });
}

bool Shipper::reopenSpoolIfReplaced() {
  try {
    if (!spool_.reopenIfReplaced()) return false;
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what != lastProblem_) logger_->error("{}", what);
    lastProblem_ = what;
    return false;
  }
  wake_.rewatch(spool_.dataFile());
  logger_->warn("spool {} was replaced: shipping the new one (epoch {:016x})",
                spool_.dir().string(), spool_.epoch());
  return true;
}

kj::Promise<void> Shipper::connectOnce() {
  reopenSpoolIfReplaced();
  auto& timer = io_.provider->getTimer();
  auto connected = io_.provider->getNetwork()
                       .parseAddress(kj::StringPtr(options_.collector.c_str()))
                       .then([](kj::Own<kj::NetworkAddress> address) {
                         auto promise = address->connect();
                         return promise.attach(kj::mv(address));
                       });
  if (options_.tls != nullptr) {
    connected = connected.then([this](kj::Own<kj::AsyncIoStream> stream) {
      return options_.tls->wrapClient(kj::mv(stream), options_.tlsServerName)
          .catch_([](kj::Exception&& e) -> kj::Promise<kj::Own<kj::AsyncIoStream>> {
            return kj::Exception(e.getType(), __FILE__, __LINE__,
                                 kj::str(tls::tlsFailureText(e).c_str()));
          });
    });
  }
  return timer.timeoutAfter(options_.connectTimeoutMs * kj::MILLISECONDS, kj::mv(connected))
      .then([this](kj::Own<kj::AsyncIoStream> stream) {
        auto session = kj::heap<Session>(*this, kj::mv(stream));
        auto promise = session->run();
        return promise.attach(kj::mv(session));
      });
}

void Shipper::noteConnected(std::uint64_t resumeAfterSeq) {
  ++stats_.sessions;
  connected_ = true;
  lastProblem_.clear();
  logger_->info("connected to collector {} (epoch {:016x}, collector has through seq {})",
                options_.collector, spool_.epoch(), resumeAfterSeq);
  everConnected_ = true;
}

void Shipper::noteClaimBeyondSpool(std::uint64_t claimed, std::uint64_t lastAssigned) {
  ++stats_.claimsBeyondSpool;
  if (claimBeyondSpoolLogged_) return;
  claimBeyondSpoolLogged_ = true;
  logger_->warn(
      "collector {} claims this spool (epoch {:016x}) through seq {}, but the spool assigned only "
      "through seq {}: not believed past that. Two hosts may share agent id {} (a cloned machine "
      "or spool?)",
      options_.collector, spool_.epoch(), claimed, lastAssigned, agentId_);
}

void Shipper::noteClockStamps(std::int64_t agentSendNs, std::int64_t collectorReceiveNs,
                              std::int64_t collectorSendNs) {
  // Read as soon as the answer is handed to us: the sample's t3.
  const std::int64_t receivedNs = clock_.nowNs();
  if (auto sample = clockSample(agentSendNs, collectorReceiveNs, collectorSendNs, receivedNs))
    clockEstimate_.add(*sample);
}

void Shipper::noteProblem(const kj::Exception& e) {
  std::string what(e.getDescription().cStr());
  noteRefusal(what);
  if (connected_) {
    connected_ = false;
    logger_->warn("lost collector {}: {}; reconnecting with backoff (events stay in the spool)",
                  options_.collector, what);
    lastProblem_ = what;
    return;
  }
  if (what != lastProblem_) {
    logger_->warn("cannot ship to collector {}: {}; retrying with backoff up to {} ms",
                  options_.collector, what, options_.backoffMaxMs);
    lastProblem_ = what;
  }
}

}  // namespace octolaunch::agent
