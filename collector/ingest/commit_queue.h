// Turns the batches agents push into store transactions and answers each push with its own result,
// keeping the ingest event loop free to read the next pushes.
//
// The pipeline, per push: encoded (stamped, packed, compressed: EventEncoder) on one of the
// encoder threads, several pushes at once; then, in the order they were submitted, grouped into
// ONE transaction with every other encoded push waiting, committed on the store's writer thread,
// one transaction at a time. While a transaction commits and syncs, the pushes that arrive form
// the next group, flushed as soon as the commit in flight has answered; with the writer idle, a
// push is flushed once it is encoded.
//
// Contract
//  * Lives on the ingest event-loop thread; submit() and settled() only from that thread.
//  * The promise resolves only after the transaction holding the batch has committed (durably);
//    it rejects with a kj::Exception naming the store's error (OVERLOADED "... store is full ..."
//    for a full map or disk) when the commit failed, in which case nothing of any grouped batch
//    was stored; with FAILED "gap: ..." when the store refused the batch because it does not
//    continue from the agent's mark (an earlier batch was not stored); and with FAILED "...
//    could not encode ..." for a batch that could not be encoded (nothing of it stored).
//  * Transactions take batches in the order they were submitted.
//  * A full store is a state: logged once when it begins ("store is full") and once when a
//    commit succeeds again, shown by IngestMetrics::storeFull; every refused commit is counted.
//  * The batch's event readers must stay valid until the promise settles (the RPC call's params
//    do: push() does not allow cancellation), and until settled() resolves after the batch's
//    connection has gone: an encoder or the writer thread may be reading them.
//  * abandon() (before anything the readers point into is destroyed) waits for the encoding and
//    the transaction in flight to end on their threads; nothing pending is answered after it.
//    Destroying the queue rejects nothing: pending promises are simply broken (the loop is
//    ending).
#pragma once

#include <kj/async.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/ingest/ingest_metrics.h"
#include "collector/ingest/worker_thread.h"
#include "collector/store/event_encoder.h"
#include "collector/store/event_store.h"
#include "shared/util/clock.h"

namespace octolaunch::ingest {

class CommitQueue final : private kj::TaskSet::ErrorHandler {
 public:
  // The threads the work runs on (they must outlive the queue): writer runs every
  // transaction, encoders (at least one) encode pushes in turn.
  struct Threads {
    WorkerThread& writer;
    std::vector<WorkerThread*> encoders;
  };
  // clock: the receive time stamped into each event. groupCommits false: one transaction per
  // batch (only to measure what grouping gains).
  CommitQueue(EventStore& store, IngestMetrics& metrics, Threads threads, const Clock& clock,
              bool groupCommits = true);
  ~CommitQueue() noexcept(false);  // abandon()s first

  // previousSeq, quarantine and clock: see IngestBatch.
  kj::Promise<BatchResult> submit(std::string agentId, std::uint64_t epoch, std::string host,
                                  capnp::List<schema::Event>::Reader events,
                                  std::optional<std::uint64_t> previousSeq,
                                  std::vector<QuarantineNote> quarantine,
                                  std::optional<ClockSample> clock = std::nullopt);

  // Resolves once every batch submitted so far has been answered (its transaction has ended).
  kj::Promise<void> settled();

  // Waits for the work in flight on other threads, then drops it unanswered; see the contract.
  void abandon();

 private:
  // A push's encoding, filled on the loop when its encoder thread is done.
  struct Encoding {
    bool done = false;
    std::vector<std::string> values;  // EventEncoder::encodeBatch
    std::string error;                // non-empty: it could not be encoded
  };
  struct Pending {
    std::string agentId;
    std::uint64_t epoch;
    std::string host;
    capnp::List<schema::Event>::Reader events;
    std::optional<std::uint64_t> previousSeq;
    std::vector<QuarantineNote> quarantine;
    std::optional<ClockSample> clock;
    std::unique_ptr<Encoding> encoding;
    kj::Own<kj::PromiseFulfiller<BatchResult>> fulfiller;
  };
  struct Group;
  struct Outcome;
  struct Waiter {
    std::uint64_t submitted;
    kj::Own<kj::PromiseFulfiller<void>> fulfiller;
  };

  void flush();
  void finish(Group& group, Outcome& outcome);
  void answer(Pending& pending, const BatchResult& result);
  void answered(std::size_t batches);  // counts them and resolves settled() calls
  void noteFull(bool full, const std::string& what);
  void taskFailed(kj::Exception&& exception) override;

  EventStore& store_;
  IngestMetrics& metrics_;
  Threads threads_;
  std::vector<std::unique_ptr<EventEncoder>> encoders_;  // encoders_[i]: only on encoder thread i
  std::size_t nextEncoder_ = 0;
  const Clock& clock_;
  std::deque<Pending> pending_;  // submitted, not yet in a transaction, in order
  bool groupCommits_;
  bool flushScheduled_ = false;
  bool committing_ = false;
  bool full_ = false;
  std::uint64_t submitted_ = 0;  // batches submitted, ever
  std::uint64_t answered_ = 0;   // of those, answered (always a prefix: groups go in order)
  std::deque<Waiter> waiters_;   // settled() calls, in submitted order
  kj::Maybe<kj::Promise<void>> inFlight_;
  // Encodings in flight; they fill pending_'s Encodings. Null after abandon().
  std::unique_ptr<kj::TaskSet> encodings_;
  kj::TaskSet tasks_;
};

}  // namespace octolaunch::ingest
