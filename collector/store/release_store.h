// Registered releases, as JSON documents keyed by release id (what CI sent with
// POST /api/v1/releases, plus what the collector adds), and an index of them by service and
// registration time (`releases_by_service`: service NUL created_ns id -> environment), kept in the
// same write transaction as the document, so "the releases of S before R" is a range scan.
//
// Contract
//  * put/modify write in their own write transaction: call them on the store's one writer thread
//    (the ingest event loop; HTTP threads go through a WriteSerializer). get/list may run on any
//    thread.
//  * Errors: StoreError{kind = full} when the map or disk is full (nothing written), io otherwise.
//    A stored document that is not valid JSON (corruption) is StoreError{kind = io}.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "collector/store/event_store.h"
#include "shared/lmdb/lmdb.h"

namespace octolaunch {

class ReleaseStore {
 public:
  virtual ~ReleaseStore() = default;
  virtual void put(const std::string& id, const nlohmann::json& doc) = 0;
  // Reads the current document (nullopt when absent) and stores what fn returns, in one write
  // transaction. Returns the stored document. An exception from fn aborts and propagates.
  virtual nlohmann::json modify(
      const std::string& id,
      const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& fn) = 0;
  virtual std::optional<nlohmann::json> get(const std::string& id) = 0;
  // Every release, ordered by id.
  virtual std::vector<nlohmann::json> list() = 0;
  // Ids of the releases of `service` registered before beforeNs (their "created_ns"), newest
  // first, at most n; with environment non-empty, only releases of that environment.
  virtual std::vector<std::string> previousOfService(const std::string& service,
                                                     const std::string& environment,
                                                     std::int64_t beforeNs, std::size_t n) = 0;
};

// Borrows the Env (the same one as LmdbEventStore); construct before other threads use it.
class LmdbReleaseStore final : public ReleaseStore {
 public:
  explicit LmdbReleaseStore(lmdb::Env& env);

  void put(const std::string& id, const nlohmann::json& doc) override;
  nlohmann::json modify(
      const std::string& id,
      const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& fn) override;
  std::optional<nlohmann::json> get(const std::string& id) override;
  std::vector<nlohmann::json> list() override;
  std::vector<std::string> previousOfService(const std::string& service,
                                             const std::string& environment, std::int64_t beforeNs,
                                             std::size_t n) override;

 private:
  lmdb::Env& env_;
  MDB_dbi releases_ = 0;
  MDB_dbi byService_ = 0;
};

}  // namespace octolaunch
