#include "collector/ingest/commit_queue.h"

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace octolaunch::ingest {

CommitQueue::CommitQueue(EventStore& store, IngestMetrics& metrics, bool groupCommits)
    : store_(store), metrics_(metrics), groupCommits_(groupCommits), tasks_(*this) {}

kj::Promise<BatchResult> CommitQueue::submit(std::string agentId, std::uint64_t epoch,
                                             std::string host,
                                             capnp::List<schema::Event>::Reader events,
                                             std::optional<std::uint64_t> previousSeq,
                                             std::vector<QuarantineNote> quarantine,
                                             std::optional<ClockSample> clock) {
  auto paf = kj::newPromiseAndFulfiller<BatchResult>();
  pending_.add(Pending{std::move(agentId), epoch, std::move(host), events, previousSeq,
                       std::move(quarantine), clock, kj::mv(paf.fulfiller)});
  if (!groupCommits_) {
    tasks_.add(kj::evalLater([this]() { flush(); }));
  } else if (!flushScheduled_) {
    // evalLast runs once the event queue is empty, just before the loop waits for I/O: every push
    // that the connections' already-received bytes carry joins this transaction.
    flushScheduled_ = true;
    tasks_.add(kj::evalLast([this]() { flush(); }));
  }
  return kj::mv(paf.promise);
}

void CommitQueue::flush() {
  flushScheduled_ = false;
  kj::Vector<Pending> group;
  if (groupCommits_) {
    group = kj::mv(pending_);
    pending_ = kj::Vector<Pending>();
  } else {
    if (pending_.empty()) return;
    group.add(kj::mv(pending_.front()));
    kj::Vector<Pending> rest;
    for (std::size_t i = 1; i < pending_.size(); ++i) rest.add(kj::mv(pending_[i]));
    pending_ = kj::mv(rest);
  }
  std::vector<IngestBatch> batches;
  batches.reserve(group.size());
  for (const Pending& p : group) {
    batches.push_back({p.agentId, p.epoch, p.host, p.events, p.previousSeq, p.quarantine, p.clock});
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<BatchResult> results;
  try {
    results = store_.commitBatches(batches);
  } catch (const StoreError& e) {
    metrics_.commitErrors++;
    if (e.kind() == StoreError::Kind::full) {
      metrics_.commitErrorsFull++;
      noteFull(true, e.what());
    } else {
      spdlog::error("commit of {} batch(es) failed, nothing acknowledged: {}", group.size(),
                    e.what());
    }
    for (Pending& p : group) {
      p.fulfiller->reject(
          kj::Exception(kj::Exception::Type::OVERLOADED, __FILE__, __LINE__,
                        kj::str("collector could not store the batch: ", e.what())));
    }
    return;
  } catch (const std::exception& e) {
    metrics_.commitErrors++;
    spdlog::error("commit of {} batch(es) failed: {}", group.size(), e.what());
    for (Pending& p : group) {
      p.fulfiller->reject(
          kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                        kj::str("collector could not store the batch: ", e.what())));
    }
    return;
  }
  metrics_.commitNanosTotal += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  metrics_.commitTransactions++;
  noteFull(false, {});
  for (std::size_t i = 0; i < group.size(); ++i) answer(group[i], results[i]);
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
