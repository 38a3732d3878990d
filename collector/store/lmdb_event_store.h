// EventStore on LMDB (see event_store.h for the contract and event_keys.h for the layout).
//
// Ownership: borrows the Env (opened once in main() with openCollectorEnv) and the Clock; both
// must outlive the store. Construct it before any other thread uses the Env: the constructor
// opens (creating) its databases in a write transaction.
#pragma once

#include "collector/store/event_store.h"
#include "shared/lmdb/lmdb.h"
#include "shared/util/clock.h"

namespace octolaunch {

class LmdbEventStore final : public EventStore {
 public:
  LmdbEventStore(lmdb::Env& env, const Clock& clock);

  std::vector<BatchResult> commitBatches(std::span<const IngestBatch> batches) override;
  std::uint64_t highWater(std::string_view agentId, std::uint64_t epoch) override;
  EventPage query(const EventQuery& query) override;
  void forEachEvent(const EventQuery& query,
                    const std::function<bool(schema::Event::Reader)>& fn) override;
  RewriteStep rewriteRelease(std::string_view release, std::string_view resumeAfter,
                             std::size_t maxEvents, const EventRewrite& rewrite) override;
  std::vector<HostInfo> hosts() override;
  std::vector<QuarantinedEvent> quarantined(std::size_t limit) override;
  std::uint64_t quarantinedCount() override;

 private:
  struct Dbs {
    MDB_dbi events, byTime, byRelease, byHost, byKind, marks, agents, clocks, counts, quarantine;
  };
  // Calls visit(id, position, packedBytes) for each match, oldest first; stops when it returns
  // false. Decodes events only when a filter is not served by the chosen index.
  void scan(lmdb::Txn& txn, const EventQuery& query,
            const std::function<bool(std::uint64_t, std::string_view, std::string_view)>& visit);
  void commitInTxn(lmdb::Txn& txn, std::span<const IngestBatch> batches,
                   std::vector<BatchResult>& results);
  void keepClock(lmdb::Txn& txn, std::string_view agentId, const ClockSample& sample);

  lmdb::Env& env_;
  const Clock& clock_;
  Dbs dbs_{};
};

}  // namespace octolaunch
