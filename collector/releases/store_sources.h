// The analysis's read interfaces over the collector's stores: EventSource over the EventStore
// (indexed scans only) and ReleaseHistory over the ReleaseStore.
//
// Threads: as the stores: any thread, several at once; each call uses its own short read
// transactions. Errors: StoreError propagates. Both borrow their store, which must outlive them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector/analysis/release_analysis.h"
#include "collector/store/event_store.h"
#include "collector/store/release_store.h"

namespace octolaunch::releases {

class StoreEventSource final : public analysis::EventSource {
 public:
  explicit StoreEventSource(EventStore& store) : store_(store) {}
  void forEach(const Query& query, const std::function<bool(schema::Event::Reader)>& fn) override;
  // From EventStore::hosts(): each agent's kept sample, by the host it announced.
  std::map<std::string, ClockReading> clockReadings() override;

 private:
  EventStore& store_;
};

class StoreReleaseHistory final : public analysis::ReleaseHistory {
 public:
  explicit StoreReleaseHistory(ReleaseStore& releases) : releases_(releases) {}
  std::optional<std::int64_t> registeredAt(const std::string& id) override;
  std::vector<std::string> previousReleases(const analysis::Release& release,
                                            std::size_t n) override;

 private:
  ReleaseStore& releases_;
};

}  // namespace octolaunch::releases
