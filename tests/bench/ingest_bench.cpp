// Ingest throughput over real RPC: A agents (connections) each pushing batches of N hook.output
// events with W pushes in flight, into an LMDB store with all indexes (synced commits). The
// server runs on this thread's KJ loop; the agents on another thread's loop.
//   ingest_bench [agents=4] [events-per-batch=2000] [total-events=400000] [window=2] [once]
// Runs twice: grouping pushes of one loop turn into one transaction, and one transaction per push
// (`once`: a single grouped run). Each run also prints the push -> acknowledgement latency.
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "collector/ingest/ingest_server.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/bench/rpc_agents.h"
#include "tests/support/temp_dir.h"

using namespace octolaunch;

namespace {

using Options = bench::AgentLoad;

void run(const Options& o, bool group) {
  testing::TempDir dir;
  SystemClock clock;
  lmdb::Env env = openCollectorEnv(dir.path(), std::size_t{4} << 30);
  LmdbEventStore store(env, clock);
  ingest::TokenSet tokens({});
  AgentRegistry registry(env);
  ingest::AgentAccess access(registry, tokens, ingest::AccessOptions{.open = true}, clock);
  ingest::SessionTable sessions;
  ingest::IngestMetrics metrics;
  auto io = kj::setupAsyncIo();
  ingest::IngestServer server(store, access, sessions, ingest::IngestLimits{.groupCommits = group},
                              metrics, io.provider->getTimer(), clock);
  auto listener =
      io.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
  auto serving = server.serve(*listener).eagerlyEvaluate(nullptr);
  const int port = static_cast<int>(listener->getPort());

  auto done = kj::newPromiseAndCrossThreadFulfiller<void>();
  auto* fulfiller = done.fulfiller.get();
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> ackMs;  // written by the agents' thread until it is joined
  bench::Fairness fairness;   // the same
  std::thread agents([port, &o, fulfiller, &ackMs, &fairness] {
    fairness = bench::pushLoad(port, o, ackMs);
    fulfiller->fulfill();
  });
  done.promise.wait(io.waitScope);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  agents.join();
  const auto stored = metrics.eventsStored.load();
  std::printf(
      "%s: %d agents x window %d, batches of %llu: %llu events in %.2f s = %.0f events/s, "
      "%llu batches in %llu transactions (commit time %.2f s)\n",
      group ? "grouped  " : "per-batch", o.agents, o.window,
      static_cast<unsigned long long>(o.perBatch), static_cast<unsigned long long>(stored), secs,
      stored / secs, static_cast<unsigned long long>(metrics.batchesCommitted.load()),
      static_cast<unsigned long long>(metrics.commitTransactions.load()),
      metrics.commitNanosTotal.load() / 1e9);
  std::printf("push ack latency ms: p50 %.1f p99 %.1f max %.1f (%zu pushes)\n",
              bench::percentile(ackMs, 0.5), bench::percentile(ackMs, 0.99),
              bench::percentile(ackMs, 1.0), ackMs.size());
  if (fairness.pushesPerAgent >= 10) {
    std::printf(
        "fairness: starved %zu of %d agents (under 10 %% of their share when half of all pushes "
        "were acknowledged; the slowest had %.0f %% of its share)\n",
        fairness.starved, o.agents, fairness.slowestShare * 100);
  } else {
    std::printf("fairness: not judged (%zu pushes per agent; it takes at least 10)\n",
                fairness.pushesPerAgent);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc > 1) o.agents = std::atoi(argv[1]);
  if (argc > 2) o.perBatch = std::strtoull(argv[2], nullptr, 10);
  if (argc > 3) o.total = std::strtoull(argv[3], nullptr, 10);
  if (argc > 4) o.window = std::atoi(argv[4]);
  run(o, true);
  if (argc > 5 && std::string(argv[5]) == "once") return 0;
  run(o, false);
  run(o, true);
  run(o, false);
}
