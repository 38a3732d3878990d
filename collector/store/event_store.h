// The collector's event store: what ingest writes and what the HTTP API and the analysis read.
//
// Contract
//  * Events are stored exactly once per (agentId, epoch, seq): the store keeps a high-water mark
//    (the highest stored seq) per (agentId, epoch); commitBatches() skips every event at or below
//    it, so a redelivered batch is a no-op. A new epoch of the same agent (a reinstalled spool,
//    seq restarting at 1) has its own mark and is stored.
//  * commitBatches() commits all the batches it is given in ONE write transaction, or none of
//    them. It returns only after the commit is durable (synced); only then may the caller
//    acknowledge anything to an agent. On failure it throws StoreError and nothing is stored.
//  * query() and forEachEvent() return events oldest first, ordered by the agent's timeNs, then
//    by the store's arrival order (the internal id). Filters are exact matches and combine with
//    AND; the time range is since <= timeNs < until.
//
// Errors (by call)
//  * commitBatches: StoreError{kind = full} when the map is full (MDB_MAP_FULL) or the disk is
//    (ENOSPC/EDQUOT): the transaction is aborted, nothing of any batch is stored, the store stays
//    usable (reads and smaller or later writes work). StoreError{kind = io} for other LMDB errors.
//    std::invalid_argument for a batch that breaks the preconditions below (our bug: ingest
//    validates first).
//  * query / forEachEvent: StoreError{kind = badCursor} for a cursor this store did not make.
//    StoreError{kind = io} for LMDB errors.
//  * highWater / hosts: StoreError{kind = io} for LMDB errors.
//
// Caveats
//  * Threads: commitBatches() must be called from one writer thread (the ingest event loop); reads
//    may run on any thread at the same time (LMDB MVCC: readers never block the writer).
//  * The Reader passed to forEachEvent's callback points into a buffer that is reused: it is valid
//    only during that call. Copy what you keep.
//  * forEachEvent() holds one read transaction for the whole scan. Keep the scan short (use the
//    filters and the time range): a long read transaction stops LMDB from reusing free pages.
//  * A cursor names a position (timeNs, id) in the time order, not a snapshot. An event committed
//    after the first page with a timeNs before the cursor's position is not returned by later
//    pages (agents' clocks and redelivery after an outage make this possible); a query with an
//    explicit since/until range sees it.
//  * Preconditions of commitBatches (ingest's validator enforces them): per batch, events belong to
//    batch.agentId and batch.epoch with strictly increasing seq; agentId, host, release and the
//    kind name contain no NUL byte.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch {

class StoreError final : public std::runtime_error {
 public:
  enum class Kind { full, badCursor, io };
  StoreError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// One agent's pushed events. The readers must stay valid until commitBatches() returns.
struct IngestBatch {
  std::string_view agentId;
  std::uint64_t epoch = 0;
  std::string_view host;  // the host the agent announced in hello(); kept for /hosts
  capnp::List<schema::Event>::Reader events;
};

struct BatchResult {
  // The (agentId, epoch) high-water mark after the commit: the highest seq stored, including
  // events stored earlier. 0 when nothing was ever stored for it.
  std::uint64_t committedThroughSeq = 0;
  std::uint64_t stored = 0;   // events of this batch newly stored
  std::uint64_t skipped = 0;  // events of this batch at or below the mark (redeliveries)
};

struct EventQuery {
  std::string release;                  // empty: any
  std::string host;                     // empty: any
  std::string kind;                     // empty: any; otherwise a kindName() such as "hook.output"
  std::optional<std::int64_t> sinceNs;  // inclusive
  std::optional<std::int64_t> untilNs;  // exclusive
  std::size_t limit = 100;              // query(): page size, >= 1. forEachEvent() ignores it.
  // Skips answered from the index entry alone, without reading the event; entries stored before
  // the indexes carried these facts are read and passed on as if the flag were unset.
  bool skipHookStdout =
      false;  // hook.output lines on stdout; applies when the release index is used
  bool skipWithRelease =
      false;  // events that carry a release id; applies when the host index is used
  // Called for each event skipHookStdout skipped, with its time and host.
  std::function<void(std::int64_t timeNs, std::string_view host)> onSkippedHookStdout;
  std::string cursor;  // empty: from the start; otherwise a nextCursor from this store
};

struct StoredEvent {
  std::uint64_t id = 0;  // the store's internal id (arrival order)
  std::string bytes;     // one packed Cap'n Proto message whose root is schema::Event
};

struct EventPage {
  std::vector<StoredEvent> events;        // oldest first
  std::optional<std::string> nextCursor;  // set when more events match
};

// The state of one agent, for GET /api/v1/hosts: its most recent epoch and that epoch's counts.
struct HostInfo {
  std::string agentId;
  std::string host;
  std::uint64_t epoch = 0;
  std::uint64_t lastSeq = 0;       // high-water mark of (agentId, epoch)
  std::uint64_t eventsStored = 0;  // events stored for (agentId, epoch)
  std::int64_t lastSeenNs = 0;     // collector clock at the last commit for this agent
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores the new events of every batch in one write transaction (receivedNs is set to the
  // store's clock), then returns one result per batch, in the same order. Throws StoreError.
  virtual std::vector<BatchResult> commitBatches(std::span<const IngestBatch> batches) = 0;

  // Highest stored seq of (agentId, epoch); 0 when none.
  virtual std::uint64_t highWater(std::string_view agentId, std::uint64_t epoch) = 0;

  // One page of matching events, oldest first, read in one short read transaction, using the
  // most selective index among the filters given (release, host, kind; else the time index).
  virtual EventPage query(const EventQuery& query) = 0;

  // Calls fn for every matching event, oldest first (starting after query.cursor when given),
  // inside one read transaction, until fn returns false. query.limit is ignored.
  virtual void forEachEvent(const EventQuery& query,
                            const std::function<bool(schema::Event::Reader)>& fn) = 0;

  // Every agent that ever committed, ordered by agentId.
  virtual std::vector<HostInfo> hosts() = 0;
};

// Decodes one StoredEvent::bytes and calls fn with its root. Throws kj::Exception on bad bytes.
void withEvent(std::string_view packedBytes, const std::function<void(schema::Event::Reader)>& fn);

}  // namespace octolaunch
