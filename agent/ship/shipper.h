// Ships the spool to the collector over Cap'n Proto RPC (capnp::TwoPartyClient on the calling
// thread's KJ event loop).
//
// Contract (the delivery half of "nothing acknowledged is ever lost")
//  * Identity (docs/architecture.md, "Agent identity"): with no key and an enrollment secret
//    (options.token) the session enrolls first and saves the key in options.keyFile; hello then
//    presents the key with a generation pair saved before it is sent. A refusal "identity
//    cloned:" makes this installation a new agent (new agent id, new spool epoch, enrolled
//    anew); "not enrolled:" drops the key so the next session enrolls again.
//  * Connect to the collector, hello(agentInfo, epoch, credentials) -> (ingest, resumeAfterSeq);
//    events through resumeAfterSeq are the collector's already and are deleted from the spool.
//    A resumeAfterSeq past the spool's last assigned seq is bad input: it is believed only up to
//    that seq, counted (claimsBeyondSpool) and logged once, since it may mean that two hosts share
//    an agent id.
//  * Push batches (<= batchMaxEvents, agentId and host filled in) with at most `window` push calls
//    unanswered. Only a push result's committedThroughSeq (and hello's resumeAfterSeq) allows
//    Spool::ackThrough(); a call merely completing never does. Acks never go past what this
//    session sent.
//  * Each push says which seq it continues from (previousSeq: the previous push's last seq, or
//    where the session resumed), so the collector never lets a later push pass one it did not
//    store (it refuses the later one with "gap").
//  * TLS (ShipperOptions::tls set): the connection is encrypted and the collector's certificate
//    verified against tlsServerName before hello is sent; a collector that fails verification is
//    a failed attempt like any other ("certificate verify failed: <reason>" logged, retried with
//    backoff). Nothing is ever sent in plaintext instead.
//  * Any failure (connect, TLS, hello, push, disconnect) ends the session; the shipper reconnects
//  with
//    exponential backoff (100 ms doubling up to backoffMax) and resends whatever is still in the
//    spool (the collector drops redeliveries). The backoff starts again at 100 ms only when a
//    push is acknowledged or the collector has everything, so a collector that accepts hello()
//    but refuses pushes (its disk is full) is retried at the backoff's pace. Logs once per change
//    of state, not per attempt.
//  * Keepalive: after keepaliveMs without a push the session pings the collector (a bootstrap
//    round trip, no store work), well inside the collector's idle timeout (default 5 min), so a
//    quiet agent keeps its connection; a ping unanswered within connectTimeoutMs ends the session
//    (a collector that vanished without closing the connection).
//  * Wakes when the spool grows (SpoolWake: inotify on the spool's file + slow re-check), whoever
//    appended: the daemon's sources and the hook and deploy processes meet the shipper there only.
//  * Clocks (clock_offset.h): hello and every push carry agentSendNs (clock.nowNs() as the call
//    is sent); each answer the collector stamped gives a sample, and every push reports the best
//    of the recent samples (of this session or earlier ones) in `clock` (measured=false before the
//    first). Answers without stamps (an older collector) give no sample.
//  * Health (agent_health.h): after each hello and then every healthReportMs the session sends
//    report(health) — the spool's depth, bytes and shed count, the last acknowledged push's round
//    trip, and what reportHealthFrom()'s function adds. A collector that does not know report()
//    (UNIMPLEMENTED) or refuses one gets no more reports in that session (logged once); neither
//    ends the session.
//  * A spool deleted or recreated under the daemon (a reinstall) is reopened (new epoch) and a
//    new session starts, so its events are not mistaken for redeliveries.
//
// Threads: construct, run() and destroy on one thread with a KJ event loop (kj::setupAsyncIo).
#pragma once

#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/ship/agent_health.h"
#include "agent/ship/agent_key.h"
#include "agent/ship/clock_offset.h"
#include "agent/ship/spool_wake.h"
#include "agent/spool/spool.h"
#include "shared/util/clock.h"

namespace octolaunch::agent {

struct ShipperOptions {
  std::string collector;  // "HOST:PORT"
  std::string agentId;
  std::string host;
  std::string token;  // the enrollment secret (an open collector needs none)
  std::string version;
  // Where the enrolled key is kept (agent_key.h; [ship] agent_key_file); empty: nowhere (tests,
  // one process life).
  std::filesystem::path keyFile;
  std::uint32_t batchMaxEvents = 2000;
  std::uint32_t window = 4;
  std::uint32_t backoffMaxMs = 30000;
  std::uint32_t recheckMs = 5000;          // safety-net re-check of the spool
  std::uint32_t connectTimeoutMs = 10000;  // connect + hello, and a keepalive's answer
  std::uint32_t keepaliveMs = 60000;       // a ping after this long without a push
  std::uint32_t healthReportMs = 30000;    // between two health reports
  // Borrowed, outlives the shipper; null: plaintext. The certificate must name tlsServerName.
  kj::TlsContext* tls = nullptr;
  std::string tlsServerName;
};

struct ShipperStats {
  std::uint64_t sessions = 0;      // successful hellos
  std::uint64_t eventsSent = 0;    // including resends
  std::uint64_t ackedThrough = 0;  // highest seq deleted from the spool on an acknowledgement
  // hello() answers whose resumeAfterSeq was beyond the spool's last assigned seq (bad input from
  // the collector, capped; logged once per shipper).
  std::uint64_t claimsBeyondSpool = 0;
  std::optional<std::int64_t> lastAckRoundTripNs;  // of the last acknowledged push
  std::uint64_t healthReports = 0;                 // report() calls the collector answered
};

class Shipper final {
 public:
  // spool, clock: not owned, must outlive the shipper. clock.nowNs() must be the wall clock the
  // collector's is compared with (CLOCK_REALTIME). logger: spdlog hands loggers out as shared_ptr.
  Shipper(kj::AsyncIoContext& io, Spool& spool, const Clock& clock, ShipperOptions options,
          std::shared_ptr<spdlog::logger> logger);
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Ships until the promise is dropped (it never resolves on its own).
  kj::Promise<void> run();
  const ShipperStats& stats() const { return stats_; }
  // addTo completes each health report (source errors, recording failures); called on the
  // shipper's thread. Before run().
  void reportHealthFrom(std::function<void(AgentHealthReport&)> addTo) {
    addHealth_ = std::move(addTo);
  }
  // What the next health report says.
  AgentHealthReport health();
  // The best recent clock sample: what the next push reports.
  std::optional<ClockSample> clockOffset() const { return clockEstimate_.best(); }

 private:
  class Session;
  kj::Promise<void> connectLoop();
  kj::Promise<void> connectOnce();
  void noteConnected(std::uint64_t resumeAfterSeq);
  // Reopens the spool if it was deleted or recreated under us (a reinstall); true when it did.
  bool reopenSpoolIfReplaced();
  void noteProblem(const kj::Exception& e);
  void noteClaimBeyondSpool(std::uint64_t claimed, std::uint64_t lastAssigned);
  void loadIdentity();
  void saveKey();  // logs when it cannot
  void noteEnrolled(std::string key, std::uint64_t generation);
  // The key with a next generation saved on disk, or null (not enrolled). Throws when the
  // pending generation cannot be saved (the hello must not go out then).
  AgentKey* keyForHello();
  void noteHelloAccepted();
  // A refusal that asks for action: a clone enrolls anew, an unknown key is dropped.
  void noteRefusal(const std::string& what);
  // An answer's stamps: a sample when the collector stamped it.
  void noteClockStamps(std::int64_t agentSendNs, std::int64_t collectorReceiveNs,
                       std::int64_t collectorSendNs);

  kj::AsyncIoContext& io_;
  Spool& spool_;
  const Clock& clock_;
  ShipperOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  SpoolWake wake_;
  std::string agentId_;          // configured, or the key file's after a clone enrolled anew
  std::optional<AgentKey> key_;  // key empty: not enrolled (yet)
  ShipperStats stats_;
  std::function<void(AgentHealthReport&)> addHealth_;
  bool healthRefusalLogged_ = false;
  ClockOffsetEstimate clockEstimate_;
  std::uint32_t backoffMs_ = 100;
  std::string lastProblem_;
  bool everConnected_ = false;
  bool connected_ = false;
  bool claimBeyondSpoolLogged_ = false;
};

}  // namespace octolaunch::agent
