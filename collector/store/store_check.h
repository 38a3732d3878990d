// Checking the collector's store for damage, and rebuilding its indexes (docs/store-format.md,
// "Checking a store"; `octolaunch-collector check`).
//
// Contract
//  * checkStore() reads the whole store in ONE read transaction: what it reports is one consistent
//    snapshot, and a collector may run and ingest meanwhile (LMDB readers never block the writer;
//    the snapshot only keeps the pages it reads from being reused until it ends). It never writes.
//    It checks:
//     - every `events` value decodes (zstd, packed Cap'n Proto, every line of a hook.block);
//     - every stored event is at or below its agent's high-water mark (`marks`, agentId and
//       epoch), and that mark exists; quarantined events too;
//     - every event has exactly the idx_time/idx_kind/idx_host/idx_release entries, keys and
//       values, that indexEntriesOf() implies (event_index.h), and every index entry is one of
//       those: none points at no event or at an event it does not belong to;
//     - every `counts` value equals the number of index entries under its prefix ('r', 'h', 'k'),
//       "q" the number of quarantined events, and every quarantine value decodes.
//    Each finding is counted by kind; the first maxFindingsListed are kept with where they are.
//  * It throws StoreError{io} for a store it cannot check: one of an older format (format 1, or a
//    migration not finished: "run migrate"), of a newer one (refuseNewerFormat), or with a damaged
//    format record; lmdb::Error when LMDB fails.
//  * repairIndexes() rewrites what checkStore() can name from the events: it adds missing index
//    entries, rewrites wrong values, removes entries that point at no event or belong to no event
//    of theirs, and rewrites `counts` from the entries there are. It never touches events, marks,
//    quarantine or meta; an event that does not decode stays, and so do its index entries. It
//    works in write transactions of at most itemsPerTxn items each (the writer lock is taken for
//    that long only); the counts are rewritten in one last transaction, which walks the index
//    keys. Each transaction is consistent on its own, so a collector may ingest meanwhile (its
//    commits wait for the writer lock). Throws what checkStore() throws for another format.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "shared/lmdb/lmdb.h"

namespace octolaunch {

enum class StoreDamage {
  eventUndecodable,       // an events value that does not decode (or a key that is not an id)
  eventAboveMark,         // an event (or quarantined one) above its agent's high-water mark
  markMissing,            // an event whose agent and epoch have no mark
  indexEntryMissing,      // an index entry its event implies is not there
  indexValueWrong,        // the entry is there with another value
  indexEntryDangling,     // an index entry whose id is no event
  indexEntryStray,        // an index entry whose event implies another key (time, prefix)
  indexKeyMalformed,      // an index key of no valid layout
  countWrong,             // a counts value that is not the number of entries under its prefix
  quarantineUndecodable,  // a quarantine entry whose key or value does not decode
};
inline constexpr std::size_t kStoreDamageKinds = 10;

// Short names for summaries: "undecodable events", "missing index entries", ...
std::string_view storeDamageName(StoreDamage kind);

struct StoreFinding {
  StoreDamage kind;
  std::string text;  // what and where: "idx_kind entry for event id 42 points at no event"
};

struct StoreCheckProgress {
  std::string_view phase;  // "events", "idx_time", ..., "counts"
  std::uint64_t done = 0;
  std::uint64_t total = 0;  // entries of that database
};

struct StoreCheckOptions {
  std::size_t maxFindingsListed = 20;
  // Called every few thousand entries (the caller decides how often to say something).
  std::function<void(const StoreCheckProgress&)> progress;
};

struct StoreCheckReport {
  std::uint32_t format = 0;
  std::uint64_t events = 0;
  std::uint64_t blocks = 0;      // events that are hook.blocks
  std::uint64_t blockLines = 0;  // their lines
  std::uint64_t quarantined = 0;
  std::map<std::string, std::uint64_t> indexEntries;  // per index database
  std::uint64_t counts = 0;                           // counts entries checked
  std::array<std::uint64_t, kStoreDamageKinds> damage{};
  std::vector<StoreFinding> findings;  // the first maxFindingsListed

  std::uint64_t damageTotal() const;
  std::uint64_t damageOf(StoreDamage kind) const { return damage[static_cast<std::size_t>(kind)]; }
  bool clean() const { return damageTotal() == 0; }
};

StoreCheckReport checkStore(lmdb::Env& env, const StoreCheckOptions& options = {});

struct IndexRepairOptions {
  std::size_t itemsPerTxn = 20000;
  std::function<void(const StoreCheckProgress&)> progress;
};

struct IndexRepairResult {
  std::uint64_t entriesAdded = 0;
  std::uint64_t valuesRewritten = 0;
  std::uint64_t entriesRemoved = 0;
  std::uint64_t countsRewritten = 0;  // counts set or removed
  std::uint64_t eventsUndecodable = 0;
};

IndexRepairResult repairIndexes(lmdb::Env& env, const IndexRepairOptions& options = {});

}  // namespace octolaunch
