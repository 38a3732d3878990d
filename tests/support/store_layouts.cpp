#include "tests/support/store_layouts.h"

#include <string_view>
#include <vector>

namespace octolaunch::testing {

namespace {
const char* const kIndexes[] = {"idx_time", "idx_kind", "idx_host", "idx_release"};
}  // namespace

DbDump dumpDb(lmdb::Env& env, const char* name) {
  DbDump out;
  // Write: may create the name. The cursor goes before the transaction ends (which would free
  // it: a write transaction's cursors are closed with it).
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
  {
    lmdb::Cursor cursor(txn, lmdb::openDbi(txn, name));
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      out.emplace(std::string(cursor.key()), std::string(cursor.value()));
    }
  }
  txn.abort();
  return out;
}

std::map<std::string, DbDump> indexDumps(lmdb::Env& env) {
  std::map<std::string, DbDump> out;
  for (const char* name : kIndexes) out[name] = dumpDb(env, name);
  return out;
}

void makeFormatOne(lmdb::Env& env, bool untaggedEverywhere) {
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
  for (const char* name : kIndexes) {
    const std::string_view n(name);
    if (!untaggedEverywhere && (n == "idx_host" || n == "idx_release")) continue;
    const MDB_dbi dbi = lmdb::openDbi(txn, name);
    std::vector<std::string> keys;
    {
      lmdb::Cursor cursor(txn, dbi);
      for (bool ok = cursor.first(); ok; ok = cursor.next()) keys.emplace_back(cursor.key());
    }
    for (const std::string& k : keys) lmdb::put(txn, dbi, k, {});
  }
  lmdb::check(mdb_drop(txn.get(), lmdb::openDbi(txn, "meta"), 1), "mdb_drop");
  txn.commit();
}

std::optional<std::string> metaValue(lmdb::Env& env, const char* key) {
  // A read transaction: polling must not queue for the writer lock a running migration holds.
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
  MDB_dbi meta = 0;
  const int rc = mdb_dbi_open(txn.get(), "meta", 0, &meta);
  if (rc == MDB_NOTFOUND) return std::nullopt;  // no meta database yet: format 1
  lmdb::check(rc, "mdb_dbi_open meta");
  std::optional<std::string> out;
  if (auto v = lmdb::get(txn, meta, key)) out = std::string(*v);
  return out;
}

void setMetaValue(lmdb::Env& env, const char* key, const std::string& value) {
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
  lmdb::put(txn, lmdb::openDbi(txn, "meta"), key, value);
  txn.commit();
}

}  // namespace octolaunch::testing
