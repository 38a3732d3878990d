// The collector's event store: what ingest writes and what the HTTP API and the analysis read.
//
// Contract
//  * Events are stored exactly once per (agentId, epoch, seq): the store keeps a high-water mark
//    (the highest seq taken care of) per (agentId, epoch); commitBatches() skips every event at or
//    below it, so a redelivered batch is a no-op. A new epoch of the same agent (a reinstalled
//    spool, seq restarting at 1) has its own mark and is stored.
//  * Contiguity: the mark never passes a batch that was not stored. A batch is taken only when it
//    continues from the mark (previousSeq <= mark, previousSeq defaulting to events[0].seq - 1);
//    otherwise its result is Outcome::gap and nothing of it is written (an earlier batch of the
//    agent failed, e.g. on a full disk; the agent resends from the mark). So every seq at or below
//    the mark is stored, quarantined, or was declared absent by the agent (previousSeq).
//  * Quarantine: an event listed in IngestBatch::quarantine is kept as received (packed, with the
//    reason and the receive time) in the quarantine table instead of the queryable events and
//    indexes; it advances the mark like a stored event and is counted (quarantinedCount()).
//  * commitBatches() commits all the batches it is given in ONE write transaction, or none of
//    them (gap results write nothing but do not fail the others). It returns only after the
//    commit is durable (synced); only then may the caller acknowledge anything to an agent. On
//    failure it throws StoreError and nothing is stored.
//  * query() and forEachEvent() return events oldest first (newest first with
//    EventQuery::newestFirst), ordered by the agent's timeNs, then by the store's arrival order
//    (the internal id). Filters are exact matches and combine with
//    AND; the time range is since <= timeNs < until.
//  * A hook.block is stored as one event and read as its lines (shared/event/hook_block.h): one
//    hook.output event per line, each with its own time and part, in the block's order at the
//    block's place in the order above (its first line's time), so a line may follow an event of
//    a slightly later time (a block spans at most kMaxBlockSpanNs). A cursor may point inside a
//    block. kind = "hook.output" finds blocks; the time range applies to each line's time.
//
// Errors (by call)
//  * commitBatches: StoreError{kind = full} when the map is full (MDB_MAP_FULL) or the disk is
//    (ENOSPC/EDQUOT, or LMDB's short write — reported by LMDB as EIO — while the disk has under
//    kFullDiskBytes free): the transaction is aborted, nothing of any batch is stored, the store
//    stays usable (reads, and writes once there is room again). StoreError{kind = io} for other
//    LMDB errors. std::invalid_argument for a batch that breaks the preconditions below (our
//    bug: ingest validates first).
//  * query / forEachEvent: StoreError{kind = badCursor} for a cursor this store did not make.
//    StoreError{kind = io} for LMDB errors.
//  * highWater / hosts / quarantined / quarantinedCount: StoreError{kind = io} for LMDB errors.
//  * rewriteRelease: as commitBatches for LMDB errors (the step's transaction is aborted, nothing
//    of it is written); std::invalid_argument when a rewrite changes what the indexes hold (our
//    bug), with nothing of the step written. What rewrite throws aborts the step and propagates.
//
// Caveats
//  * Threads: commitBatches() and rewriteRelease() must be called from one writer thread (the
//  ingest event loop); reads
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
//    batch.agentId and batch.epoch with strictly increasing seq >= 1; agentId is not empty; every
//    event not quarantined has host, release and kind name without a NUL byte, and ids short
//    enough for an LMDB key (ingest::kMaxIdBytes); quarantine indexes are increasing and in range.
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

// Disk space under which LMDB's short write (EIO) is taken for a full disk.
inline constexpr std::uint64_t kFullDiskBytes = std::uint64_t{1} << 20;

// An event of a batch that ingest judged unfit for the queryable store (bad content from an
// agent): kept in quarantine, as received.
struct QuarantineNote {
  std::uint32_t index = 0;  // into IngestBatch::events
  std::string reason;       // one line, e.g. "release is longer than 256 bytes"
};

// An agent's measurement of its clock against the collector's (rpc.capnp, ClockOffset): the
// collector's clock minus the agent's, good to +- half the round trip.
struct ClockSample {
  std::int64_t offsetNs = 0;
  std::int64_t roundTripNs = 0;
  std::int64_t receivedNs = 0;  // collector clock when the store took the sample
  bool operator==(const ClockSample&) const = default;
};

// A stored sample is replaced by a newer one unless it has the smaller round trip and is younger
// than this (a sample over a congested link must not replace a better recent one; a stale one
// must not outlive clock drift).
inline constexpr std::int64_t kClockSampleKeepNs = 10LL * 60 * 1'000'000'000;

// One agent's pushed events. The readers and spans must stay valid until commitBatches() returns.
struct IngestBatch {
  std::string_view agentId;
  std::uint64_t epoch = 0;
  // The session's host (an enrolled agent's is its enrollment's): stored events and the
  // indexes carry it whatever the events say; empty: each event's own. Kept for /hosts.
  std::string_view host;
  capnp::List<schema::Event>::Reader events;
  // The seq this batch continues from (rpc.capnp, push.previousSeq); nullopt: events[0].seq - 1.
  std::optional<std::uint64_t> previousSeq;
  std::span<const QuarantineNote> quarantine;  // ordered by index
  // The clock sample the push reported (measured ones only); kept per agent when the batch is
  // taken (not on a gap), by the rule of kClockSampleKeepNs. receivedNs is ignored.
  std::optional<ClockSample> clock;
  // Empty, or one value per event as EventEncoder::encodeBatch made it when the push arrived
  // (quarantined ones empty): the store writes these instead of encoding in the transaction.
  std::span<const std::string> encoded;
};

struct BatchResult {
  enum class Outcome {
    committed,  // new events stored (or none were new)
    gap,        // previousSeq is above the mark: nothing of the batch written
  };
  Outcome outcome = Outcome::committed;
  // The (agentId, epoch) high-water mark after the commit: the highest seq taken care of,
  // including events stored earlier. 0 when nothing was ever stored for it.
  std::uint64_t committedThroughSeq = 0;
  std::uint64_t stored = 0;       // events of this batch newly stored
  std::uint64_t records = 0;      // source records they hold: a hook.block's lines, else 1 each
  std::uint64_t quarantined = 0;  // events of this batch newly quarantined
  std::uint64_t skipped = 0;      // events of this batch at or below the mark (redeliveries)
};

// One quarantined event, as quarantined() returns it.
struct QuarantinedEvent {
  std::string agentId;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::int64_t receivedNs = 0;  // collector clock
  std::string reason;
  std::string bytes;  // one packed Cap'n Proto message whose root is schema::Event, as received
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
  // Newest first: the reverse of the order below (timeNs, then arrival), for "what happened
  // lately". A cursor continues in the order of the query that made it.
  bool newestFirst = false;
};

struct StoredEvent {
  std::uint64_t id = 0;  // the store's internal id (arrival order)
  std::string bytes;     // one packed Cap'n Proto message whose root is schema::Event
};

struct EventPage {
  std::vector<StoredEvent> events;        // in the query's order
  std::optional<std::string> nextCursor;  // set when more events match
};

// The state of one agent, for GET /api/v1/hosts: its most recent epoch and that epoch's counts.
struct HostInfo {
  std::string agentId;
  std::string host;
  std::uint64_t epoch = 0;
  std::uint64_t lastSeq = 0;         // high-water mark of (agentId, epoch)
  std::uint64_t eventsStored = 0;    // source records stored for (agentId, epoch) (a hook.block
                                     // counts its lines)
  std::int64_t lastSeenNs = 0;       // collector clock at the last commit for this agent
  std::optional<ClockSample> clock;  // the kept clock sample; nullopt until the agent sent one
};

// One step of EventStore::rewriteRelease.
struct RewriteStep {
  std::uint64_t examined = 0;   // events of the release read in this step
  std::uint64_t rewritten = 0;  // events whose stored bytes were replaced
  // Set when more events of the release may follow: where the next step starts.
  std::optional<std::string> resumeAfter;
};

// Returns an event's new bytes (one packed Cap'n Proto message whose root is schema::Event), or
// nullopt to leave it as it is. The new event must keep what the indexes hold: timeNs, host,
// release, the payload kind and a hook line's stream.
using EventRewrite = std::function<std::optional<std::string>(schema::Event::Reader)>;

// One step of EventStore::expireOldest.
struct ExpireStep {
  std::uint64_t examined = 0;  // events read in this step
  std::uint64_t deleted = 0;   // events removed, with their index entries
  std::uint64_t kept = 0;      // events the keep function kept
  std::uint64_t records = 0;   // records (hook lines) of the events removed
  // Set when more events before the bound may follow: where the next step starts.
  std::optional<std::string> resumeAfter;
};

// Whether an old event stays (retention keeps a failed release's evidence longer).
using EventKeep = std::function<bool(schema::Event::Reader)>;

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores the new events of every batch in one write transaction (receivedNs is set to the
  // store's clock), then returns one result per batch, in the same order. Throws StoreError.
  virtual std::vector<BatchResult> commitBatches(std::span<const IngestBatch> batches) = 0;

  // Highest stored seq of (agentId, epoch); 0 when none.
  virtual std::uint64_t highWater(std::string_view agentId, std::uint64_t epoch) = 0;

  // One page of matching events in the query's order, read in one short read transaction, using the
  // most selective index among the filters given (release, host, kind; else the time index).
  virtual EventPage query(const EventQuery& query) = 0;

  // Calls fn for every matching event in the query's order (starting after query.cursor when
  // given), inside one read transaction, until fn returns false. query.limit is ignored.
  virtual void forEachEvent(const EventQuery& query,
                            const std::function<bool(schema::Event::Reader)>& fn) = 0;

  // Rewrites in place, in one write transaction, up to maxEvents (>= 1) of the events that carry
  // `release`, oldest first, starting after resumeAfter (empty: from the first). Ids, keys,
  // index entries and counts stay as they are. Throws StoreError, std::invalid_argument.
  virtual RewriteStep rewriteRelease(std::string_view release, std::string_view resumeAfter,
                                     std::size_t maxEvents, const EventRewrite& rewrite) = 0;

  // Removes, in one write transaction, the oldest events by time (idx_time order) whose time is
  // before beforeNs, examining at most maxEvents (>= 1) starting after resumeAfter (empty: from
  // the oldest). An event for which keep returns true stays. A removed event's index entries and
  // counts go with it in the same transaction; high-water marks stay, so a redelivery of it is
  // still recognised as one. Throws StoreError, std::invalid_argument.
  virtual ExpireStep expireOldest(std::int64_t beforeNs, std::string_view resumeAfter,
                                  std::size_t maxEvents, const EventKeep& keep) = 0;

  // The time of the oldest stored event; nullopt when the store holds none.
  virtual std::optional<std::int64_t> oldestEventNs() = 0;

  // Every agent that ever committed, ordered by agentId.
  virtual std::vector<HostInfo> hosts() = 0;

  // Up to limit quarantined events ordered by (agentId, epoch, seq), and how many there are.
  virtual std::vector<QuarantinedEvent> quarantined(std::size_t limit) = 0;
  virtual std::uint64_t quarantinedCount() = 0;
};

// Decodes one StoredEvent::bytes and calls fn with its root. Throws kj::Exception on bad bytes.
void withEvent(std::string_view packedBytes, const std::function<void(schema::Event::Reader)>& fn);

}  // namespace octolaunch
