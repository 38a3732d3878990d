// The capabilities an agent connection gets: Collector (the bootstrap, one per connection) and,
// after a hello() with accepted credentials, an Ingest bound to (agentId, epoch).
//
// Contract
//  * Both live on the ingest event-loop thread.
//  * PeerIdentity is what the connection itself proved before any call (the remote address now;
//    a TLS peer certificate later). hello() checks the token against the TokenSet.
//  * hello() fails (kj FAILED "credentials not accepted") for a wrong token and for malformed
//    identifiers. push() fails with FAILED "batch refused: <reason>" for a batch of the wrong
//    shape (nothing stored), stores-or-quarantines each event of a well-shaped one (a bad event
//    never takes its neighbours down), and fails as CommitQueue says (OVERLOADED "store is full",
//    FAILED "gap") when the commit did not take the batch. The connection survives those errors.
//  * Clocks: hello() and push() answer with collectorReceiveNs (when the call arrived) and
//    collectorSendNs (when it was answered), both from IngestShared::clock, so the agent can
//    measure its offset (rpc.capnp, ClockOffset). A push's measured `clock` is kept per agent
//    with its batch (EventStore, IngestBatch::clock); a negative round trip is ignored.
#pragma once

#include <string>

#include "collector/ingest/batch_validator.h"
#include "collector/ingest/commit_queue.h"
#include "collector/ingest/ingest_metrics.h"
#include "collector/ingest/token_set.h"
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
  const TokenSet& tokens;
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

 private:
  IngestShared& shared_;
  PeerIdentity peer_;
};

class IngestImpl final : public schema::Ingest::Server {
 public:
  IngestImpl(IngestShared& shared, std::string agentId, std::uint64_t epoch, std::string host,
             std::string peer)
      : shared_(shared),
        agentId_(std::move(agentId)),
        epoch_(epoch),
        host_(std::move(host)),
        peer_(std::move(peer)) {}

 protected:
  kj::Promise<void> push(PushContext context) override;

 private:
  IngestShared& shared_;
  std::string agentId_;
  std::uint64_t epoch_;
  std::string host_;
  std::string peer_;
};

}  // namespace octolaunch::ingest
