// Store commit throughput: batches of N hook.output events (~100-byte lines, all indexes), with
// G batches (of G different agents) grouped per write transaction. Synced commits, fresh store
// in a temp dir per configuration.
//   store_bench [events-per-batch=2000] [total-events=200000] [groups=1,2,4,8]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "shared/util/clock.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

using namespace octolaunch;

int main(int argc, char** argv) {
  const std::uint64_t perBatch = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  const std::uint64_t total = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200'000;
  std::vector<std::size_t> groups = {1, 2, 4, 8};
  if (argc > 3) {
    groups.clear();
    std::stringstream ss(argv[3]);
    for (std::string g; std::getline(ss, g, ',');) groups.push_back(std::stoul(g));
  }
  SystemClock clock;
  for (std::size_t group : groups) {
    testing::TempDir dir;
    lmdb::Env env = openCollectorEnv(dir.path(), std::size_t{4} << 30);
    LmdbEventStore store(env, clock);
    const std::uint64_t rounds = total / (perBatch * group);
    // Prepare every message first so only commits are timed.
    std::vector<std::unique_ptr<testing::BatchMessage>> messages;
    for (std::uint64_t r = 0; r < rounds; ++r) {
      for (std::size_t a = 0; a < group; ++a) {
        auto specs = testing::outputLines(r * perBatch + 1, (r + 1) * perBatch, "r42",
                                          1'700'000'000'000'000'000, 1000);
        for (auto& s : specs) {
          s.host = "web-" + std::to_string(a);
          s.line = "2026-11-28T06:00:00Z migrate: applying step " + std::to_string(s.seq) +
                   " of the schema change, table users, rows copied so far ok";
        }
        messages.push_back(
            std::make_unique<testing::BatchMessage>("agent-" + std::to_string(a), 1, specs));
      }
    }
    auto start = std::chrono::steady_clock::now();
    std::uint64_t stored = 0;
    for (std::uint64_t r = 0; r < rounds; ++r) {
      std::vector<IngestBatch> batches;
      for (std::size_t a = 0; a < group; ++a) batches.push_back(messages[r * group + a]->batch());
      for (auto& res : store.commitBatches(batches)) stored += res.stored;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "batch=%llu events, %zu batch(es)/txn: %llu events in %.2f s = %.0f events/s, "
        "%.1f ms/txn, store %.0f MB\n",
        static_cast<unsigned long long>(perBatch), group, static_cast<unsigned long long>(stored),
        secs, stored / secs, secs * 1000 / static_cast<double>(rounds), env.usedBytes() / 1e6);
  }
}
