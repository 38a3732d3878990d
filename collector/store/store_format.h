// The format of the collector's store, recorded in its `meta` database (docs/store-format.md).
//
//   meta  "format"         -> the format number, decimal text
//         "migrated_after" -> while a migration runs: the last event id (BE8) it has finished
//
// Format 1: a store written before formats were recorded (no "format" key). Format 2: every
// index entry's value starts with the tags byte (event_keys.h), so a scan knows a single event
// from a block without reading it. A collector opens a store of its own format or older (and
// migrates an older one: store_migration.h); it refuses a newer one.
#pragma once

#include <cstdint>
#include <optional>

#include "shared/lmdb/lmdb.h"

namespace octolaunch {

inline constexpr std::uint32_t kStoreFormat = 2;

MDB_dbi openMetaDbi(lmdb::Txn& txn);

// The recorded format; nullopt when the key is absent (a new store or format 1). Throws
// StoreError{io} for a value that is not a number.
std::optional<std::uint32_t> recordedStoreFormat(lmdb::Txn& txn, MDB_dbi meta);
void recordStoreFormat(lmdb::Txn& txn, MDB_dbi meta, std::uint32_t format);

// Throws StoreError{io} naming both versions when `format` is newer than this build's.
void refuseNewerFormat(std::uint32_t format);

}  // namespace octolaunch
