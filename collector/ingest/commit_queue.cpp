#include "collector/ingest/commit_queue.h"

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace octolaunch::ingest {

// One transaction's worth of pushes. The batches point into the pendings (agent id, host,
// notes, encoded values), so both stay in one place on the heap until the transaction has been
// answered.
struct CommitQueue::Group {
  std::vector<Pending> pendings;
  std::vector<IngestBatch> batches;
};

// What the writer thread hands back: the results, or the error that made the commit fail.
struct CommitQueue::Outcome {
  std::vector<BatchResult> results;
  std::optional<StoreError::Kind> storeError;
  std::string error;  // non-empty: the commit failed and stored nothing
  std::uint64_t nanos = 0;
};

CommitQueue::CommitQueue(EventStore& store, IngestMetrics& metrics, Threads threads,
                         const Clock& clock, bool groupCommits)
    : store_(store),
      metrics_(metrics),
      threads_(std::move(threads)),
      clock_(clock),
      groupCommits_(groupCommits),
      encodings_(std::make_unique<kj::TaskSet>(static_cast<kj::TaskSet::ErrorHandler&>(*this))),
      tasks_(*this) {
  if (threads_.encoders.empty()) throw std::invalid_argument("CommitQueue: no encoder thread");
  for (std::size_t i = 0; i < threads_.encoders.size(); ++i) {
    encoders_.push_back(std::make_unique<EventEncoder>());
  }
}

CommitQueue::~CommitQueue() noexcept(false) { abandon(); }

kj::Promise<BatchResult> CommitQueue::submit(std::string agentId, std::uint64_t epoch,
                                             std::string host,
                                             capnp::List<schema::Event>::Reader events,
                                             std::optional<std::uint64_t> previousSeq,
                                             std::vector<QuarantineNote> quarantine,
                                             std::optional<ClockSample> clock) {
  if (!encodings_) return KJ_EXCEPTION(DISCONNECTED, "the collector is stopping");
  auto paf = kj::newPromiseAndFulfiller<BatchResult>();
  auto encoding = std::make_unique<Encoding>();
  Encoding* filled = encoding.get();
  // The encoder thread gets its own copies of what the pending entry may move (short strings
  // live inside std::string), and reads the events where they are.
  const std::size_t e = nextEncoder_++ % encoders_.size();
  auto job = [encoder = encoders_[e].get(), agentId, epoch, host, events, previousSeq, quarantine,
              receivedNs = clock_.nowNs()]() {
    return encoder->encodeBatch(
        IngestBatch{agentId, epoch, host, events, previousSeq, quarantine, std::nullopt},
        receivedNs);
  };
  encodings_->add(
      runOn<std::vector<std::string>>(*threads_.encoders[e], std::move(job))
          .then([filled](std::vector<std::string>&& values) { filled->values = std::move(values); },
                [filled](kj::Exception&& failure) {
                  filled->error = failure.getDescription().cStr();
                  if (filled->error.empty()) filled->error = "unknown error";
                })
          .then([this, filled]() {
            filled->done = true;
            metrics_.batchesEncoding--;
            metrics_.batchesWaiting++;
            if (!committing_) flush();
          }));
  pending_.push_back(Pending{std::move(agentId), epoch, std::move(host), events, previousSeq,
                             std::move(quarantine), clock, std::move(encoding),
                             kj::mv(paf.fulfiller)});
  ++submitted_;
  metrics_.batchesEncoding++;
  return kj::mv(paf.promise);
}

kj::Promise<void> CommitQueue::settled() {
  if (answered_ == submitted_) return kj::READY_NOW;
  auto paf = kj::newPromiseAndFulfiller<void>();
  waiters_.push_back(Waiter{submitted_, kj::mv(paf.fulfiller)});
  return kj::mv(paf.promise);
}

void CommitQueue::abandon() {
  // Once the threads are idle, nothing will touch the promises' fulfillers or the pushes again.
  for (WorkerThread* encoder : threads_.encoders) encoder->waitIdle();
  threads_.writer.waitIdle();
  encodings_.reset();
  inFlight_ = nullptr;
  committing_ = false;
}

void CommitQueue::flush() {
  flushScheduled_ = false;
  if (committing_) return;  // the commit in flight flushes when it ends
  // The encoded prefix goes (one batch only without grouping); a batch that could not be encoded
  // is answered on its own.
  auto group = kj::heap<Group>();
  std::size_t unencodable = 0;
  while (!pending_.empty() && pending_.front().encoding->done &&
         (groupCommits_ || group->pendings.empty())) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    metrics_.batchesWaiting--;
    if (!p.encoding->error.empty()) {
      metrics_.batchesRejected++;
      spdlog::error("push from agent {}: its batch could not be encoded: {}", p.agentId,
                    p.encoding->error);
      p.fulfiller->reject(kj::Exception(
          kj::Exception::Type::FAILED, __FILE__, __LINE__,
          kj::str("collector could not encode the batch: ", p.encoding->error.c_str())));
      ++unencodable;
      continue;
    }
    group->pendings.push_back(std::move(p));
  }
  if (unencodable > 0) answered(unencodable);
  if (group->pendings.empty()) return;
  group->batches.reserve(group->pendings.size());
  for (const Pending& p : group->pendings) {
    group->batches.push_back({p.agentId, p.epoch, p.host, p.events, p.previousSeq, p.quarantine,
                              p.clock, p.encoding->values});
  }
  committing_ = true;
  // On the writer thread: only the store and this group's batches, which nothing on the loop
  // touches until the result is back.
  auto commit = runOn<Outcome>(threads_.writer, [&store = store_, batches = &group->batches]() {
    Outcome outcome;
    const auto start = std::chrono::steady_clock::now();
    try {
      outcome.results = store.commitBatches(*batches);
    } catch (const StoreError& e) {
      outcome.storeError = e.kind();
      outcome.error = e.what();
    } catch (const std::exception& e) {
      outcome.error = e.what();
    }
    outcome.nanos = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - start)
                                                   .count());
    return outcome;
  });
  Group& g = *group;
  inFlight_ = commit
                  .then([this, &g](Outcome&& outcome) { finish(g, outcome); },
                        [this, &g](kj::Exception&& e) {
                          Outcome outcome;
                          outcome.error = std::string("the store's writer thread: ") +
                                          e.getDescription().cStr();
                          finish(g, outcome);
                        })
                  .attach(kj::mv(group))
                  .eagerlyEvaluate([](kj::Exception&& e) {
                    spdlog::error("commit queue: {}", e.getDescription().cStr());
                  });
}

void CommitQueue::finish(Group& group, Outcome& outcome) {
  committing_ = false;
  std::vector<Pending>& pendings = group.pendings;
  if (!outcome.error.empty() || outcome.results.size() != pendings.size()) {
    if (outcome.error.empty()) outcome.error = "the store answered a different number of batches";
    metrics_.commitErrors++;
    const bool full = outcome.storeError == StoreError::Kind::full;
    if (full) {
      metrics_.commitErrorsFull++;
      noteFull(true, outcome.error);
    } else {
      spdlog::error("commit of {} batch(es) failed, nothing acknowledged: {}", pendings.size(),
                    outcome.error);
    }
    for (Pending& p : pendings) {
      p.fulfiller->reject(kj::Exception(
          outcome.storeError ? kj::Exception::Type::OVERLOADED : kj::Exception::Type::FAILED,
          __FILE__, __LINE__,
          kj::str("collector could not store the batch: ", outcome.error.c_str())));
    }
  } else {
    metrics_.commitNanosTotal += outcome.nanos;
    metrics_.commitTransactions++;
    noteFull(false, {});
    for (std::size_t i = 0; i < pendings.size(); ++i) answer(pendings[i], outcome.results[i]);
    metrics_.lastCommitUnixNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  }
  answered(pendings.size());
  if (!pending_.empty() && !flushScheduled_) {
    // evalLast: pushes whose bytes have already arrived are read and join this group first.
    flushScheduled_ = true;
    tasks_.add(kj::evalLast([this]() { flush(); }));
  }
}

void CommitQueue::answered(std::size_t batches) {
  answered_ += batches;
  while (!waiters_.empty() && waiters_.front().submitted <= answered_) {
    waiters_.front().fulfiller->fulfill();
    waiters_.pop_front();
  }
}

void CommitQueue::answer(Pending& p, const BatchResult& result) {
  if (result.outcome == BatchResult::Outcome::gap) {
    metrics_.batchesGap++;
    spdlog::info(
        "push from agent {} refused: it continues after seq {} but the store has through seq {} "
        "(an earlier push was not stored); the agent resends from there",
        p.agentId, p.previousSeq ? *p.previousSeq : p.events[0].getSeq() - 1,
        result.committedThroughSeq);
    p.fulfiller->reject(kj::Exception(
        kj::Exception::Type::FAILED, __FILE__, __LINE__,
        kj::str("gap: the collector has through seq ", result.committedThroughSeq,
                "; an earlier push was not stored; start a new session and resend from there")));
    return;
  }
  metrics_.batchesCommitted++;
  metrics_.eventsStored += result.records;
  // The store skips a prefix of redeliveries and takes the rest: stored or quarantined.
  const std::size_t taken = result.stored + result.quarantined;
  std::size_t note = 0;
  for (std::size_t i = p.events.size() - std::min<std::size_t>(taken, p.events.size());
       i < p.events.size(); ++i) {
    while (note < p.quarantine.size() && p.quarantine[note].index < i) ++note;
    if (note < p.quarantine.size() && p.quarantine[note].index == i) continue;
    metrics_.countStored(p.events[static_cast<unsigned>(i)]);
  }
  metrics_.eventsQuarantined += result.quarantined;
  metrics_.eventsDuplicate += result.skipped;
  if (result.quarantined > 0) {
    const QuarantineNote& first = p.quarantine.front();
    spdlog::warn(
        "agent {}: {} event(s) quarantined (kept as received, acknowledged); first: seq {}: {}",
        p.agentId, result.quarantined, p.events[first.index].getSeq(), first.reason);
  }
  p.fulfiller->fulfill(BatchResult(result));
}

void CommitQueue::noteFull(bool full, const std::string& what) {
  if (full == full_) return;
  full_ = full;
  metrics_.storeFull = full ? 1 : 0;
  if (full) {
    spdlog::error(
        "store is full: {}; refusing pushes until there is room (agents keep their events and "
        "retry with backoff)",
        what);
  } else {
    spdlog::warn("store is no longer full: commits succeed again");
  }
}

void CommitQueue::taskFailed(kj::Exception&& exception) {
  spdlog::error("commit queue task failed: {}", exception.getDescription().cStr());
}

}  // namespace octolaunch::ingest
