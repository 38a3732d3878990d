// Retention beside ingest: what a pass costs the agents' pushes, and what it does to the store's
// growth. On a store pre-filled with OLD events 40 days old (hook lines, every 50th a block of 40
// lines), 8 RPC agents push NEW events into the real ingest server (in-process, synced commits):
//   1. without a pass: push -> acknowledgement p50/p99, and the data file's growth per million
//      events pushed;
//   2. the same pushes with a retention pass removing every old event at the same time (on its
//      own thread, through the writer handoff the collector uses): p50/p99, the pass's time and
//      rate;
//   3. NEW more events after the pass: the file's growth per million events (freed pages reused).
// Then the same store's size and used bytes before and after, per million events.
//   retention_bench [old-events=2000000] [new-events=800000] [batch-events=1000]
#include <kj/async-io.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "collector/ingest/ingest_server.h"
#include "collector/ingest/thread_write_serializer.h"
#include "collector/retention/retention_pass.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/bench/rpc_agents.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

using namespace octolaunch;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;
constexpr std::int64_t kDay = retention::kNanosecondsPerDay;

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

void fillOld(LmdbEventStore& store, std::uint64_t events) {
  const std::uint64_t perBatch = 2000;
  for (std::uint64_t first = 1; first <= events; first += perBatch) {
    std::vector<testing::EventSpec> specs;
    for (std::uint64_t seq = first; seq < first + perBatch && seq <= events; ++seq) {
      testing::EventSpec s{.seq = seq,
                           .timeNs = kNow - 40 * kDay + static_cast<std::int64_t>(seq) * 1000,
                           .host = "old-" + std::to_string(seq % 16),
                           .release = "r-old-" + std::to_string(seq / 100000),
                           .line = "2026-10-28T06:00:00Z migrate: applying step " +
                                   std::to_string(seq) + " of the schema change, rows ok"};
      if (seq % 50 == 0) {
        s.kind = "hook.block";
        s.blockLines = 40;
      }
      specs.push_back(std::move(s));
    }
    testing::BatchMessage m("old-agent", 1, specs, "");
    IngestBatch b = m.batch();
    store.commitBatches({&b, 1});
  }
}

struct Phase {
  double ackP50 = 0, ackP99 = 0, ackMax = 0, seconds = 0;
  std::uint64_t extentBefore = 0, extentAfter = 0;
  retention::PassReport pass;
  double passSeconds = 0;
};

// Serves ingest on this thread while `load` is pushed from another, and (withPass) a retention
// pass removes the old events from a third.
Phase runPhase(lmdb::Env& env, LmdbEventStore& store, const bench::AgentLoad& load, bool withPass) {
  SystemClock clock;
  ingest::TokenSet tokens({});
  AgentRegistry registry(env);
  ingest::AgentAccess access(registry, tokens, ingest::AccessOptions{.open = true}, clock);
  ingest::SessionTable sessions;
  ingest::IngestMetrics metrics;
  auto io = kj::setupAsyncIo();
  ingest::IngestServer server(store, access, sessions, ingest::IngestLimits{}, metrics,
                              io.provider->getTimer(), clock);
  auto listener =
      io.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
  auto serving = server.serve(*listener).eagerlyEvaluate(nullptr);
  const int port = static_cast<int>(listener->getPort());
  ingest::ThreadWriteSerializer writer(server.writer());

  Phase phase;
  phase.extentBefore = retention::currentSpaceUse(env).extentBytes;
  auto pushed = kj::newPromiseAndCrossThreadFulfiller<void>();
  auto passed = kj::newPromiseAndCrossThreadFulfiller<void>();
  auto* pushedDone = pushed.fulfiller.get();
  auto* passDone = passed.fulfiller.get();
  std::vector<double> ackMs;
  const auto start = std::chrono::steady_clock::now();
  std::thread agents([&]() {
    bench::pushLoad(port, load, ackMs);
    pushedDone->fulfill();
  });
  collector::RetentionSettings settings;
  const retention::EvidenceShield shield;
  std::thread pass([&]() {
    if (withPass) {
      const auto passStart = std::chrono::steady_clock::now();
      phase.pass = retention::runRetentionPass({.events = store,
                                                .writer = writer,
                                                .env = env,
                                                .settings = settings,
                                                .mapSize = env.mapSize(),
                                                .shield = shield,
                                                .nowNs = kNow,
                                                .stop = nullptr});
      phase.passSeconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - passStart).count();
    }
    passDone->fulfill();
  });
  pushed.promise.wait(io.waitScope);
  phase.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  passed.promise.wait(io.waitScope);
  agents.join();
  pass.join();
  phase.extentAfter = retention::currentSpaceUse(env).extentBytes;
  phase.ackP50 = bench::percentile(ackMs, 0.5);
  phase.ackP99 = bench::percentile(ackMs, 0.99);
  phase.ackMax = bench::percentile(ackMs, 1.0);
  return phase;
}

void printPushes(const char* name, const Phase& p, std::uint64_t events) {
  std::printf(
      "%s: %llu events pushed in %.2f s (%.0f/s); push ack ms p50 %.1f p99 %.1f max %.1f; data "
      "file +%.1f MiB per million events\n",
      name, static_cast<unsigned long long>(events), p.seconds, events / p.seconds, p.ackP50,
      p.ackP99, p.ackMax,
      mib(p.extentAfter - p.extentBefore) / (static_cast<double>(events) / 1e6));
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t oldEvents = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const std::uint64_t newEvents = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 800'000;
  const std::uint32_t batch = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 1000;
  bench::AgentLoad load{
      .agents = 8, .perBatch = 2000, .total = newEvents, .window = 2, .firstTimeNs = kNow};

  testing::TempDir dir;
  SystemClock clock;
  lmdb::Env env = openCollectorEnv(dir.path(), std::size_t{16} << 30);
  LmdbEventStore store(env, clock);
  const auto fillStart = std::chrono::steady_clock::now();
  fillOld(store, oldEvents);
  const lmdb::SpaceUse filled = retention::currentSpaceUse(env);
  std::printf("store: %llu old events (every 50th a block of 40 lines), %.1f MiB used (%.1f s)\n",
              static_cast<unsigned long long>(oldEvents), mib(filled.usedBytes()),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - fillStart).count());

  const Phase without = runPhase(env, store, load, false);
  printPushes("without a pass", without, newEvents);

  load.firstSeq += newEvents / 8;
  collector::RetentionSettings settings;
  settings.batchEvents = batch;
  const Phase with = runPhase(env, store, load, true);
  printPushes("during a pass ", with, newEvents);
  std::printf(
      "retention pass: %llu events (%llu records) removed in %llu steps of %u in %.2f s = %.0f "
      "events/s; used %.1f -> %.1f MiB, free %.1f MiB\n",
      static_cast<unsigned long long>(with.pass.deletedByAge),
      static_cast<unsigned long long>(with.pass.recordsDeleted),
      static_cast<unsigned long long>(with.pass.steps), batch, with.passSeconds,
      with.pass.deletedByAge / with.passSeconds, mib(with.pass.before.usedBytes()),
      mib(with.pass.after.usedBytes()), mib(with.pass.after.freeBytes));

  load.firstSeq += newEvents / 8;
  const Phase after = runPhase(env, store, load, false);
  printPushes("after the pass", after, newEvents);
}
