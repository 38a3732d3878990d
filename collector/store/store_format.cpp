#include "collector/store/store_format.h"

#include <charconv>
#include <string>

#include "collector/store/event_store.h"

namespace octolaunch {

namespace {
constexpr const char* kFormatKey = "format";
}  // namespace

MDB_dbi openMetaDbi(lmdb::Txn& txn) { return lmdb::openDbi(txn, "meta"); }

std::optional<std::uint32_t> recordedStoreFormat(lmdb::Txn& txn, MDB_dbi meta) {
  auto value = lmdb::get(txn, meta, kFormatKey);
  if (!value) return std::nullopt;
  std::uint32_t format = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), format);
  if (ec != std::errc() || end != value->data() + value->size() || format == 0) {
    throw StoreError(StoreError::Kind::io,
                     "the store's format record is damaged (meta \"format\" is not a number)");
  }
  return format;
}

void recordStoreFormat(lmdb::Txn& txn, MDB_dbi meta, std::uint32_t format) {
  lmdb::put(txn, meta, kFormatKey, std::to_string(format));
}

void refuseNewerFormat(std::uint32_t format) {
  if (format <= kStoreFormat) return;
  throw StoreError(StoreError::Kind::io,
                   "the store has format " + std::to_string(format) +
                       ", newer than this collector's format " + std::to_string(kStoreFormat) +
                       ": it was written by a newer octolaunch-collector; run that version (or "
                       "newer) on it, this one would misread it");
}

}  // namespace octolaunch
