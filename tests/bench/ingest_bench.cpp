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
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

using namespace octolaunch;

namespace {

struct Options {
  int agents = 4;
  std::uint64_t perBatch = 2000;
  std::uint64_t total = 400'000;
  int window = 2;
};

using Steady = std::chrono::steady_clock;

// One agent's pushing loop: keeps `window` pushes in flight until `batches` are acknowledged;
// adds each push's send -> acknowledgement time to `ackMs`. Runs on the agents' thread.
kj::Promise<void> pushAll(schema::Ingest::Client ingest,
                          std::vector<std::unique_ptr<testing::BatchMessage>>& msgs,
                          std::size_t& next, std::vector<double>& ackMs) {
  if (next >= msgs.size()) return kj::READY_NOW;
  auto req = ingest.pushRequest();
  req.setEvents(msgs[next++]->batch().events);
  const auto sent = Steady::now();
  return req.send().then([ingest, &msgs, &next, &ackMs, sent](auto) mutable {
    ackMs.push_back(std::chrono::duration<double, std::milli>(Steady::now() - sent).count());
    return pushAll(ingest, msgs, next, ackMs);
  });
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void runAgents(int port, const Options& o, std::vector<double>& ackMs) {
  auto io = kj::setupAsyncIo();
  const std::uint64_t batchesPerAgent = o.total / o.perBatch / static_cast<std::uint64_t>(o.agents);
  struct Agent {
    kj::Own<kj::AsyncIoStream> stream;
    kj::Own<capnp::TwoPartyClient> rpc;
    std::vector<std::unique_ptr<testing::BatchMessage>> msgs;
    std::size_t next = 0;
  };
  std::vector<std::unique_ptr<Agent>> agents;
  kj::Vector<kj::Promise<void>> all;
  for (int a = 0; a < o.agents; ++a) {
    auto agent = std::make_unique<Agent>();
    const std::string id = "agent-" + std::to_string(a);
    for (std::uint64_t b = 0; b < batchesPerAgent; ++b) {
      auto specs = testing::outputLines(b * o.perBatch + 1, (b + 1) * o.perBatch, "r42",
                                        1'700'000'000'000'000'000, 1000);
      for (auto& s : specs) {
        s.host = "web-" + std::to_string(a);
        s.line = "2026-11-28T06:00:00Z migrate: applying step " + std::to_string(s.seq) +
                 " of the schema change, table users, rows copied so far ok";
      }
      agent->msgs.push_back(std::make_unique<testing::BatchMessage>(id, 1, specs));
    }
    agent->stream = io.provider->getNetwork()
                        .parseAddress("127.0.0.1", port)
                        .wait(io.waitScope)
                        ->connect()
                        .wait(io.waitScope);
    agent->rpc = kj::heap<capnp::TwoPartyClient>(*agent->stream);
    auto hello = agent->rpc->bootstrap().castAs<schema::Collector>().helloRequest();
    hello.getAgent().setAgentId(id);
    hello.getAgent().setHost("web-" + std::to_string(a));
    hello.setEpoch(1);
    auto ingest = hello.send().wait(io.waitScope).getIngest();
    for (int w = 0; w < o.window; ++w) {
      all.add(pushAll(ingest, agent->msgs, agent->next, ackMs));
    }
    agents.push_back(std::move(agent));
  }
  kj::joinPromises(all.releaseAsArray()).wait(io.waitScope);
}

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
  std::thread agents([port, &o, fulfiller, &ackMs] {
    runAgents(port, o, ackMs);
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
              percentile(ackMs, 0.5), percentile(ackMs, 0.99), percentile(ackMs, 1.0),
              ackMs.size());
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
