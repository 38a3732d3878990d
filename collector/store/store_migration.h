// Bringing a store written by an older collector to kStoreFormat, in place (docs/store-format.md).
//
// Contract
//  * Runs before the event store is constructed and before any other thread uses the Env.
//  * Works in write transactions of at most eventsPerTxn events, each recording how far it got
//    together with what it changed: killed at any point (kill -9 included), the store is
//    consistent and usable, and the next run resumes where the last committed transaction ended.
//    The format is recorded only by the transaction that finishes.
//  * Never adds or removes an index entry: it rewrites the values of the entries there are.
//  * Throws StoreError for a store newer than this build (refuseNewerFormat) or a damaged value,
//    lmdb::Error when LMDB fails (a full disk or map included); what was committed stays.
#pragma once

#include <cstdint>
#include <functional>

#include "shared/lmdb/lmdb.h"

namespace octolaunch {

struct MigrationProgress {
  std::uint32_t fromFormat = 0;
  std::uint64_t eventsDone = 0;   // including those of earlier, interrupted runs
  std::uint64_t eventsTotal = 0;  // events in the store
};

struct MigrationOptions {
  std::size_t eventsPerTxn = 20000;
  // After each committed transaction.
  std::function<void(const MigrationProgress&)> progress;
};

struct MigrationResult {
  std::uint32_t fromFormat = 0;  // kStoreFormat when there was nothing to do
  bool resumed = false;          // an earlier run had been interrupted
  std::uint64_t eventsRewritten = 0;
  std::uint64_t indexEntriesMissing = 0;  // index entries the events imply but the store lacks
};

MigrationResult migrateStore(lmdb::Env& env, const MigrationOptions& options = {});

}  // namespace octolaunch
