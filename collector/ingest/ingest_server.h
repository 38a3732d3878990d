// The RPC side of the collector: accepts agent connections on a KJ event loop and gives each its
// own Collector bootstrap. The loop's thread is the only thread that writes events to the store.
//
// Contract
//  * Construct, serve() and destroy on the event-loop thread (kj::setupAsyncIo() in main()).
//  * Per connection: a TwoPartyVatNetwork with ReaderOptions bounded by IngestLimits, an RpcSystem
//    made with makeRpcServer() and a flow limit. Bad bytes, a truncated message or a message over
//    the limits drop that connection only — never the process.
//  * The clock stamps the answers of hello() and push() (collector_service.h); borrowed.
//  * Destroying the server closes every connection; pushes not yet committed get no answer (the
//    agents keep those events and resend).
#pragma once

#include <kj/async-io.h>

#include <cstddef>

#include "collector/ingest/collector_service.h"
#include "collector/ingest/commit_queue.h"
#include "collector/ingest/ingest_metrics.h"
#include "collector/ingest/token_set.h"
#include "collector/store/event_store.h"

namespace octolaunch::ingest {

struct IngestLimits {
  std::size_t maxMessageBytes = std::size_t{64} << 20;  // traversal limit
  unsigned maxNesting = 16;
  std::size_t flowLimitBytes = std::size_t{32} << 20;
  std::uint32_t maxBatchEvents = 100'000;
  bool groupCommits = true;  // false only to measure: one transaction per batch
};

class IngestServer final : private kj::TaskSet::ErrorHandler {
 public:
  IngestServer(EventStore& store, const TokenSet& tokens, IngestLimits limits,
               IngestMetrics& metrics, kj::Timer& timer, const Clock& clock);
  ~IngestServer() noexcept(false);

  // Accepts connections until the promise is dropped. listener must outlive it.
  kj::Promise<void> serve(kj::ConnectionReceiver& listener);

 private:
  struct Connection;
  void accepted(kj::Own<kj::AsyncIoStream>&& stream);
  void taskFailed(kj::Exception&& exception) override;

  IngestLimits limits_;
  IngestMetrics& metrics_;
  kj::Timer& timer_;
  CommitQueue queue_;
  IngestShared shared_;
  kj::TaskSet connections_;
};

}  // namespace octolaunch::ingest
