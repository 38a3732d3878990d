// A store the e2e tests of store tools start from: `events` events of one agent (every 50th a
// hook.block of 40 lines, every third of release r2, the rest r1), committed in batches of 1000
// by today's store code into the collector's environment in `dir`.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"

namespace octolaunch::testing {

// Use with ASSERT_NO_FATAL_FAILURE: a batch that is not committed fails the test.
inline void fillSampleStore(const std::filesystem::path& dir, std::size_t mapSize,
                            std::uint64_t events, const std::string& agentId) {
  lmdb::Env env = openCollectorEnv(dir, mapSize);
  FakeClock clock;
  LmdbEventStore store(env, clock);
  for (std::uint64_t first = 1; first <= events; first += 1000) {
    std::vector<EventSpec> specs;
    for (std::uint64_t seq = first; seq < first + 1000 && seq <= events; ++seq) {
      EventSpec s{.seq = seq,
                  .timeNs = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq) * 1000,
                  .release = seq % 3 == 0 ? "r2" : "r1",
                  .line = "output line " + std::to_string(seq)};
      if (seq % 50 == 0) {
        s.kind = "hook.block";
        s.blockLines = 40;
      }
      specs.push_back(s);
    }
    BatchMessage m(agentId, 5, specs);
    IngestBatch b = m.batch();
    ASSERT_EQ(store.commitBatches({&b, 1}).at(0).outcome, BatchResult::Outcome::committed);
  }
}

}  // namespace octolaunch::testing
