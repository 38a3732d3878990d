// Groups the batches pushed before the ingest event loop next waits for I/O (from any number of
// connections) into ONE store transaction, then answers each push with its own result.
//
// Contract
//  * Lives on the ingest event-loop thread; submit() only from that thread.
//  * The promise resolves only after the transaction holding the batch has committed (durably);
//    it rejects with a kj::Exception naming the store's error (OVERLOADED "... store is full ..."
//    for a full map or disk) when the commit failed, in which case nothing of any grouped batch
//    was stored; and it rejects with FAILED "gap: ..." when the store refused the batch because
//    it does not continue from the agent's mark (an earlier batch was not stored).
//  * A full store is a state: logged once when it begins ("store is full") and once when a
//    commit succeeds again, shown by IngestMetrics::storeFull; every refused commit is counted.
//  * The batch's event readers must stay valid until the promise settles (the RPC call's params
//    do: push() does not allow cancellation).
//  * Destroying the queue rejects nothing: pending promises are simply broken (the loop is ending).
#pragma once

#include <kj/async.h>
#include <kj/vector.h>

#include <optional>
#include <string>
#include <vector>

#include "collector/ingest/ingest_metrics.h"
#include "collector/store/event_store.h"

namespace octolaunch::ingest {

class CommitQueue final : private kj::TaskSet::ErrorHandler {
 public:
  // groupCommits false: one transaction per batch (only to measure what grouping gains).
  CommitQueue(EventStore& store, IngestMetrics& metrics, bool groupCommits = true);

  // previousSeq, quarantine and clock: see IngestBatch.
  kj::Promise<BatchResult> submit(std::string agentId, std::uint64_t epoch, std::string host,
                                  capnp::List<schema::Event>::Reader events,
                                  std::optional<std::uint64_t> previousSeq,
                                  std::vector<QuarantineNote> quarantine,
                                  std::optional<ClockSample> clock = std::nullopt);

 private:
  struct Pending {
    std::string agentId;
    std::uint64_t epoch;
    std::string host;
    capnp::List<schema::Event>::Reader events;
    std::optional<std::uint64_t> previousSeq;
    std::vector<QuarantineNote> quarantine;
    std::optional<ClockSample> clock;
    kj::Own<kj::PromiseFulfiller<BatchResult>> fulfiller;
  };
  void flush();
  void answer(Pending& pending, const BatchResult& result);
  void noteFull(bool full, const std::string& what);
  void taskFailed(kj::Exception&& exception) override;

  EventStore& store_;
  IngestMetrics& metrics_;
  kj::Vector<Pending> pending_;
  bool groupCommits_;
  bool flushScheduled_ = false;
  bool full_ = false;
  kj::TaskSet tasks_;
};

}  // namespace octolaunch::ingest
