// The capabilities an agent connection gets: Collector (the bootstrap, one per connection) and,
// after a hello() with accepted credentials, an Ingest bound to (agentId, epoch).
//
// Contract
//  * Both live on the ingest event-loop thread.
//  * PeerIdentity is what the connection itself proved before any call (the remote address now;
//    a TLS peer certificate later). enroll() and hello() check credentials with AgentAccess
//    (agent_access.h); the Ingest of an enrolled agent carries the agent id and host of its
//    enrollment, and lives while SessionTable says so (a newer hello of the agent or a revocation
//    ends it: its pushes then fail with DISCONNECTED "session ended").
//  * hello() and enroll() fail (kj FAILED, the message of the refusal) for credentials not
//    accepted and for malformed identifiers. push() fails with FAILED "batch refused: <reason>" for
//    a batch of the wrong shape (nothing stored), stores-or-quarantines each event of a well-shaped
//    one (a bad event never takes its neighbours down), and fails as CommitQueue says (OVERLOADED
//    "store is full", FAILED "gap") when the commit did not take the batch. The connection survives
//    those errors.
//  * Clocks: hello() and push() answer with collectorReceiveNs (when the call arrived) and
//    collectorSendNs (when it was answered), both from IngestShared::clock, so the agent can
//    measure its offset (rpc.capnp, ClockOffset). A push's measured `clock` is kept per agent
//    with its batch (EventStore, IngestBatch::clock); a negative round trip is ignored.
//  * What the agent tells about itself goes to IngestMetrics::agents (agent_status.h): hello,
//    push and report() mark it seen, a push the store took sets its lag, report() its health.
#pragma once

#include <string>
#include <variant>

#include "collector/ingest/agent_access.h"
#include "collector/ingest/batch_validator.h"
#include "collector/ingest/commit_queue.h"
#include "collector/ingest/ingest_metrics.h"
#include "collector/ingest/session_table.h"
#include "collector/store/event_store.h"
#include "octolaunch/schema/rpc.capnp.h"
#include "shared/util/clock.h"

namespace octolaunch::ingest {

struct PeerIdentity {
  std::string address;  // "127.0.0.1:53122"; for logs
};

// What a connection's capabilities share; owned by IngestServer, outlives every connection.
struct IngestShared {
  EventStore& store;
  CommitQueue& queue;
  AgentAccess& access;
  SessionTable& sessions;
  IngestMetrics& metrics;
  BatchLimits limits;
  const Clock& clock;
};

class CollectorImpl final : public schema::Collector::Server {
 public:
  CollectorImpl(IngestShared& shared, PeerIdentity peer)
      : shared_(shared), peer_(std::move(peer)) {}

 protected:
  kj::Promise<void> hello(HelloContext context) override;
  kj::Promise<void> enroll(EnrollContext context) override;

 private:
  IngestShared& shared_;
  PeerIdentity peer_;
};

class IngestImpl final : public schema::Ingest::Server {
 public:
  // session: the SessionTable serial of an enrolled agent's session, 0 for others.
  IngestImpl(IngestShared& shared, std::string agentId, std::uint64_t epoch, std::string host,
             std::string peer, std::uint64_t session)
      : shared_(shared),
        agentId_(std::move(agentId)),
        epoch_(epoch),
        host_(std::move(host)),
        peer_(std::move(peer)),
        session_(session) {}

 protected:
  kj::Promise<void> push(PushContext context) override;
  // Keeps the agent's health in IngestShared::metrics.agents; fails with "report refused:" as
  // readAgentHealth() says.
  kj::Promise<void> report(ReportContext context) override;

 private:
  IngestShared& shared_;
  std::string agentId_;
  std::uint64_t epoch_;
  std::string host_;
  std::string peer_;
  std::uint64_t session_;
};

// An agent's health report as the collector keeps it, or what is wrong with it: more than
// kMaxReportedSources sources, a source name that is empty, over kMaxSourceNameBytes or not
// [a-z0-9_.-], or a source named twice. Sources come out sorted by name.
inline constexpr std::size_t kMaxReportedSources = 64;
inline constexpr std::size_t kMaxSourceNameBytes = 64;
std::variant<AgentHealth, std::string> readAgentHealth(schema::AgentHealth::Reader health,
                                                       std::int64_t receivedNs);

}  // namespace octolaunch::ingest
