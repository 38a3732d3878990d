// EventStore on LMDB (see event_store.h for the contract and event_keys.h for the layout).
//
// Ownership: borrows the Env (opened once in main() with openCollectorEnv) and the Clock; both
// must outlive the store. Construct it before any other thread uses the Env: the constructor
// opens (creating) its databases in a write transaction. It refuses (StoreError) a store of a
// newer format than this build's and records the current format in a new store; an older store
// stays readable as it is, and migrateStore() (store_migration.h) brings it up to date.
#pragma once

#include "collector/store/event_encoder.h"
#include "collector/store/event_store.h"
#include "collector/store/event_value.h"
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
  ExpireStep expireOldest(std::int64_t beforeNs, std::string_view resumeAfter,
                          std::size_t maxEvents, const EventKeep& keep) override;
  std::optional<std::int64_t> oldestEventNs() override;
  std::vector<HostInfo> hosts() override;
  std::vector<QuarantinedEvent> quarantined(std::size_t limit) override;
  std::uint64_t quarantinedCount() override;

 private:
  struct Dbs {
    MDB_dbi events, byTime, byRelease, byHost, byKind, marks, agents, clocks, counts, quarantine;
  };
  // One record a scan found: its index position, for a line of a hook.block its part, the event
  // (a block's line as hook_block.h builds it) and, for a stored event, its packed bytes (empty
  // for a line). Returns false to stop the scan.
  using RecordVisit = std::function<bool(std::string_view position, std::optional<std::uint32_t>,
                                         schema::Event::Reader, std::string_view packed)>;
  // Calls visit for each matching record in the query's order, blocks expanded into lines.
  // readerNeeded false: a visit reads the reader only for a block's line (part set); for a single
  // event whose index entry answers every filter it gets an empty reader and the packed bytes,
  // and the event is not unpacked.
  void scan(lmdb::Txn& txn, const EventQuery& query, const RecordVisit& visit,
            bool readerNeeded = true);
  void commitInTxn(lmdb::Txn& txn, std::span<const IngestBatch> batches,
                   std::vector<BatchResult>& results);
  void keepClock(lmdb::Txn& txn, std::string_view agentId, const ClockSample& sample);

  lmdb::Env& env_;
  const Clock& clock_;
  Dbs dbs_{};
  EventValueCodec codec_;  // the writer's (rewriteRelease, expireOldest)
  EventEncoder encoder_;   // the writer's (commitBatches, for batches that come unencoded)
};

}  // namespace octolaunch
