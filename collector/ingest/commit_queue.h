// Groups the batches pushed before the ingest event loop next waits for I/O (from any number of
// connections) into ONE store transaction, then answers each push with its own result.
//
// Contract
//  * Lives on the ingest event-loop thread; submit() only from that thread.
//  * The promise resolves only after the transaction holding the batch has committed (durably);
//    it rejects with a kj::Exception naming the store's error (e.g. "store is full") when the
//    commit failed, in which case nothing of any grouped batch was stored.
//  * The batch's event readers must stay valid until the promise settles (the RPC call's params
//    do: push() does not allow cancellation).
//  * Destroying the queue rejects nothing: pending promises are simply broken (the loop is ending).
#pragma once

#include <kj/async.h>
#include <kj/vector.h>

#include <string>

#include "collector/ingest/ingest_metrics.h"
#include "collector/store/event_store.h"

namespace octolaunch::ingest {

class CommitQueue final : private kj::TaskSet::ErrorHandler {
 public:
  // groupCommits false: one transaction per batch (only to measure what grouping gains).
  CommitQueue(EventStore& store, IngestMetrics& metrics, bool groupCommits = true);

  kj::Promise<BatchResult> submit(std::string agentId, std::uint64_t epoch, std::string host,
                                  capnp::List<schema::Event>::Reader events);

 private:
  struct Pending {
    std::string agentId;
    std::uint64_t epoch;
    std::string host;
    capnp::List<schema::Event>::Reader events;
    kj::Own<kj::PromiseFulfiller<BatchResult>> fulfiller;
  };
  void flush();
  void taskFailed(kj::Exception&& exception) override;

  EventStore& store_;
  IngestMetrics& metrics_;
  kj::Vector<Pending> pending_;
  bool groupCommits_;
  bool flushScheduled_ = false;
  kj::TaskSet tasks_;
};

}  // namespace octolaunch::ingest
