#include "collector/ingest/commit_queue.h"

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

namespace octolaunch::ingest {

CommitQueue::CommitQueue(EventStore& store, IngestMetrics& metrics, bool groupCommits)
    : store_(store), metrics_(metrics), groupCommits_(groupCommits), tasks_(*this) {}

kj::Promise<BatchResult> CommitQueue::submit(std::string agentId, std::uint64_t epoch,
                                             std::string host,
                                             capnp::List<schema::Event>::Reader events) {
  auto paf = kj::newPromiseAndFulfiller<BatchResult>();
  pending_.add(Pending{std::move(agentId), epoch, std::move(host), events, kj::mv(paf.fulfiller)});
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
  for (const Pending& p : group) batches.push_back({p.agentId, p.epoch, p.host, p.events});

  const auto start = std::chrono::steady_clock::now();
  std::vector<BatchResult> results;
  try {
    results = store_.commitBatches(batches);
  } catch (const StoreError& e) {
    metrics_.commitErrors++;
    if (e.kind() == StoreError::Kind::full) metrics_.commitErrorsFull++;
    spdlog::error("commit of {} batch(es) failed, nothing acknowledged: {}", group.size(),
                  e.what());
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
  for (std::size_t i = 0; i < group.size(); ++i) {
    metrics_.batchesCommitted++;
    metrics_.eventsStored += results[i].stored;
    metrics_.eventsDuplicate += results[i].skipped;
    group[i].fulfiller->fulfill(BatchResult(results[i]));
  }
}

void CommitQueue::taskFailed(kj::Exception&& exception) {
  spdlog::error("commit queue task failed: {}", exception.getDescription().cStr());
}

}  // namespace octolaunch::ingest
