#include "collector/store/release_store.h"

namespace octolaunch {

namespace {

[[noreturn]] void rethrow(const lmdb::Error& e, const char* doing) {
  throw StoreError(e.mapFull() || e.noSpace() ? StoreError::Kind::full : StoreError::Kind::io,
                   std::string(doing) + ": " + e.what());
}

nlohmann::json parseDoc(std::string_view bytes) {
  auto doc = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw StoreError(StoreError::Kind::io, "stored release is not JSON");
  return doc;
}

}  // namespace

LmdbReleaseStore::LmdbReleaseStore(lmdb::Env& env) : env_(env) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    releases_ = lmdb::openDbi(txn, "releases");
    txn.commit();
  } catch (const lmdb::Error& e) {
    rethrow(e, "opening the release store");
  }
}

void LmdbReleaseStore::put(const std::string& id, const nlohmann::json& doc) {
  modify(id, [&](const std::optional<nlohmann::json>&) { return doc; });
}

nlohmann::json LmdbReleaseStore::modify(
    const std::string& id,
    const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& fn) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    std::optional<nlohmann::json> current;
    if (auto bytes = lmdb::get(txn, releases_, id)) current = parseDoc(*bytes);
    nlohmann::json next = fn(current);
    lmdb::put(txn, releases_, id, next.dump());
    txn.commit();
    return next;
  } catch (const lmdb::Error& e) {
    rethrow(e, "storing a release");
  }
}

std::optional<nlohmann::json> LmdbReleaseStore::get(const std::string& id) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    auto bytes = lmdb::get(txn, releases_, id);
    if (!bytes) return std::nullopt;
    return parseDoc(*bytes);
  } catch (const lmdb::Error& e) {
    rethrow(e, "reading a release");
  }
}

std::vector<nlohmann::json> LmdbReleaseStore::list() {
  std::vector<nlohmann::json> out;
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    lmdb::Cursor cursor(txn, releases_);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) out.push_back(parseDoc(cursor.value()));
  } catch (const lmdb::Error& e) {
    rethrow(e, "listing releases");
  }
  return out;
}

}  // namespace octolaunch
