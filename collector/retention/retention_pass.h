// One retention pass over the event store (docs/operating.md, "Retention").
//
// 1. Age: every event older than max_age_days is removed, oldest first, except a failed
//    release's evidence (evidence_shield.h).
// 2. Size: while the store's used bytes (its extent less LMDB's free pages) are above the cap,
//    the oldest events that are not evidence are removed, whatever their age, until the store
//    is 5 % below the cap. When only evidence is left above the cap the pass says so and stops.
//
// Contract
//  * Every removal is one EventStore::expireOldest step of at most batch_events events, run
//    through the WriteSerializer: ingest commits between two steps, so a push waits for at most
//    one step, and a pass interrupted anywhere (stop, a crash) leaves a consistent store.
//  * Indexes stay consistent: an event and all its index entries and counts go in one
//    transaction. High-water marks stay: a redelivered old event is still acknowledged as a
//    duplicate, never stored again.
//  * Freed pages are reused by LMDB for later writes; the data file does not shrink (a
//    compacted backup does that: docs/operating.md).
//  * On a full map a step is retried with fewer events (deleting needs free pages too), down to
//    one event; only a single event that cannot be removed fails the pass.
//  * Errors: what the store and the WriteSerializer throw (the caller logs them; the next pass
//    starts from the oldest again).
// Threads: run it on any thread but the writer's own (it waits for the writer).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "collector/config/collector_config.h"
#include "collector/retention/evidence_shield.h"
#include "collector/store/event_store.h"
#include "collector/store/write_serializer.h"
#include "shared/lmdb/lmdb.h"

namespace octolaunch::retention {

inline constexpr std::int64_t kNanosecondsPerDay = 86'400LL * 1'000'000'000;

struct PassReport {
  std::uint64_t examined = 0;
  std::uint64_t deletedByAge = 0;   // events
  std::uint64_t deletedBySize = 0;  // events
  std::uint64_t recordsDeleted = 0;
  std::uint64_t keptEvidence = 0;  // old events kept as a failed release's evidence
  std::uint64_t steps = 0;         // write transactions
  std::uint64_t stepsShrunk = 0;   // steps refused as full and retried smaller (a full map)
  lmdb::SpaceUse before, after;
  std::uint64_t sizeCapBytes = 0;
  bool capUnmet = false;  // above the cap with nothing left to remove but evidence
  bool stopped = false;   // `stop` was set: the pass ended early
};

struct PassInputs {
  EventStore& events;
  WriteSerializer& writer;
  lmdb::Env& env;
  const collector::RetentionSettings& settings;
  std::size_t mapSize = 0;  // [store] map_size, for the default cap
  const EvidenceShield& shield;
  std::int64_t nowNs = 0;
  const std::atomic<bool>* stop = nullptr;  // checked between steps
};

PassReport runRetentionPass(const PassInputs& in);

// The store's space as a fresh read transaction sees it.
lmdb::SpaceUse currentSpaceUse(lmdb::Env& env);

}  // namespace octolaunch::retention
