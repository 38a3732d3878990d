#include "collector/store/store_migration.h"

#include <string>

#include "collector/store/event_index.h"
#include "collector/store/event_keys.h"
#include "collector/store/event_store.h"
#include "collector/store/event_value.h"
#include "collector/store/store_format.h"

namespace octolaunch {

namespace keys = store_keys;

namespace {

constexpr const char* kProgressKey = "migrated_after";

struct Dbis {
  MDB_dbi meta, events, byTime, byRelease, byHost, byKind;
};

Dbis openDbis(lmdb::Txn& txn) {
  return {openMetaDbi(txn),
          lmdb::openDbi(txn, "events"),
          lmdb::openDbi(txn, "idx_time"),
          lmdb::openDbi(txn, "idx_release"),
          lmdb::openDbi(txn, "idx_host"),
          lmdb::openDbi(txn, "idx_kind")};
}

std::uint64_t entryCount(lmdb::Txn& txn, MDB_dbi dbi) {
  MDB_stat stat{};
  lmdb::check(mdb_stat(txn.get(), dbi, &stat), "mdb_stat");
  return stat.ms_entries;
}

// Sets the value of an existing entry; returns false when the entry is missing.
bool rewriteValue(lmdb::Txn& txn, MDB_dbi dbi, std::string_view key, std::string_view value) {
  auto existing = lmdb::get(txn, dbi, key);
  if (!existing) return false;
  if (*existing != value) lmdb::put(txn, dbi, key, value);
  return true;
}

// Format 1 -> 2: every index value starts with the event's tags. One transaction; returns the
// last event id it finished (0: none left).
std::uint64_t tagIndexes(lmdb::Txn& txn, const Dbis& dbs, std::uint64_t after, std::size_t max,
                         EventValueCodec& codec, MigrationResult& result) {
  lmdb::Cursor cursor(txn, dbs.events);
  std::uint64_t last = 0;
  std::size_t done = 0;
  std::string releaseValue;
  for (bool ok = cursor.seek(lmdb::bigEndian(after + 1)); ok && done < max; ok = cursor.next()) {
    const std::uint64_t id = lmdb::readBigEndian(cursor.key());
    withEvent(codec.decode(cursor.value()), [&](schema::Event::Reader event) {
      // The stored event already carries its session's host (the store wrote it there).
      const EventIndexEntries e = indexEntriesOf(event, {});
      const auto at = [&](std::string_view value) {
        return keys::indexKey(keys::indexPrefix(value), e.timeNs, id);
      };
      int missing = 0;
      missing += !rewriteValue(txn, dbs.byTime, keys::position(e.timeNs, id), e.tagged);
      missing += !rewriteValue(txn, dbs.byKind, at(e.kind), e.tagged);
      missing += !rewriteValue(txn, dbs.byHost, at(e.host), e.tagged);
      if (!e.release.empty()) {
        releaseValue.assign(e.tagged);
        releaseValue.append(e.host);
        missing += !rewriteValue(txn, dbs.byRelease, at(e.release), releaseValue);
      }
      result.indexEntriesMissing += static_cast<std::uint64_t>(missing);
    });
    last = id;
    ++done;
  }
  result.eventsRewritten += done;
  return last;
}

}  // namespace

MigrationResult migrateStore(lmdb::Env& env, const MigrationOptions& options) {
  MigrationResult result;
  result.fromFormat = kStoreFormat;
  EventValueCodec codec;
  MigrationProgress progress;
  std::uint64_t after = 0;
  Dbis dbs{};
  {
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    dbs = openDbis(txn);
    const std::optional<std::uint32_t> recorded = recordedStoreFormat(txn, dbs.meta);
    if (recorded) refuseNewerFormat(*recorded);
    const std::uint64_t total = entryCount(txn, dbs.events);
    if (recorded == kStoreFormat || (!recorded && total == 0)) {
      if (!recorded) recordStoreFormat(txn, dbs.meta, kStoreFormat);  // a new store
      txn.commit();
      return result;
    }
    result.fromFormat = recorded.value_or(1);
    if (auto done = lmdb::get(txn, dbs.meta, kProgressKey)) {
      after = lmdb::readBigEndian(*done);
      result.resumed = true;
    }
    progress = {.fromFormat = result.fromFormat, .eventsDone = 0, .eventsTotal = total};
    if (after > 0) {  // what the interrupted runs finished
      lmdb::Cursor cursor(txn, dbs.events);
      for (bool ok = cursor.first(); ok && lmdb::readBigEndian(cursor.key()) <= after;
           ok = cursor.next()) {
        ++progress.eventsDone;
      }
    }
    txn.commit();
  }
  const std::size_t perTxn = options.eventsPerTxn == 0 ? 1 : options.eventsPerTxn;
  for (;;) {
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    const std::uint64_t before = result.eventsRewritten;
    const std::uint64_t last = tagIndexes(txn, dbs, after, perTxn, codec, result);
    if (last == 0) {
      recordStoreFormat(txn, dbs.meta, kStoreFormat);
      lmdb::del(txn, dbs.meta, kProgressKey);
      txn.commit();
      return result;
    }
    lmdb::put(txn, dbs.meta, kProgressKey, lmdb::bigEndian(last));
    txn.commit();
    after = last;
    progress.eventsDone += result.eventsRewritten - before;
    if (options.progress) options.progress(progress);
  }
}

}  // namespace octolaunch
