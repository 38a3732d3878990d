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

// created_ns as 8 big-endian bytes with the sign bit flipped: byte order is time order.
std::string timeKey(std::int64_t ns) {
  auto u = static_cast<std::uint64_t>(ns) ^ (std::uint64_t{1} << 63);
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, u >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xff);
  return out;
}

std::string servicePrefix(std::string_view service) {
  std::string key(service);
  key.push_back('\0');
  return key;
}

// The index key of a stored document; empty when it names no service.
std::string serviceKey(const nlohmann::json& doc, const std::string& id) {
  auto service = doc.find("service");
  if (service == doc.end() || !service->is_string()) return {};
  auto created = doc.find("created_ns");
  std::int64_t ns =
      created != doc.end() && created->is_number_integer() ? created->get<std::int64_t>() : 0;
  return servicePrefix(service->get<std::string>()) + timeKey(ns) + id;
}

std::string environmentOf(const nlohmann::json& doc) {
  auto e = doc.find("environment");
  return e != doc.end() && e->is_string() ? e->get<std::string>() : std::string();
}

}  // namespace

LmdbReleaseStore::LmdbReleaseStore(lmdb::Env& env) : env_(env) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    releases_ = lmdb::openDbi(txn, "releases");
    byService_ = lmdb::openDbi(txn, "releases_by_service");
    // A store written before the index existed: build it once. The cursors close before the
    // commit: LMDB frees a write transaction's cursors when it commits.
    bool indexed = lmdb::Cursor(txn, byService_).first();
    if (!indexed) {
      lmdb::Cursor all(txn, releases_);
      for (bool ok = all.first(); ok; ok = all.next()) {
        std::string id(all.key());
        nlohmann::json doc = parseDoc(all.value());
        if (auto key = serviceKey(doc, id); !key.empty())
          lmdb::put(txn, byService_, key, environmentOf(doc));
      }
    }
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
    std::string oldKey = current ? serviceKey(*current, id) : std::string();
    std::string newKey = serviceKey(next, id);
    if (!oldKey.empty() && oldKey != newKey) lmdb::del(txn, byService_, oldKey);
    if (!newKey.empty()) lmdb::put(txn, byService_, newKey, environmentOf(next));
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

std::vector<std::string> LmdbReleaseStore::previousOfService(const std::string& service,
                                                             const std::string& environment,
                                                             std::int64_t beforeNs, std::size_t n) {
  std::vector<std::string> out;
  const std::string prefix = servicePrefix(service);
  const std::size_t idAt = prefix.size() + 8;
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    lmdb::Cursor cursor(txn, byService_);
    // Walk back from the first key at or after beforeNs.
    bool ok = cursor.seek(prefix + timeKey(beforeNs)) ? cursor.prev() : cursor.last();
    for (; ok && out.size() < n; ok = cursor.prev()) {
      std::string_view key = cursor.key();
      if (key.size() < idAt || key.substr(0, prefix.size()) != prefix) break;
      if (!environment.empty() && cursor.value() != environment) continue;
      out.emplace_back(key.substr(idAt));
    }
  } catch (const lmdb::Error& e) {
    rethrow(e, "listing the releases of a service");
  }
  return out;
}

}  // namespace octolaunch
