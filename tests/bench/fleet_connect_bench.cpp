// Many agents at once against a running collector: every thread opens its share of connections
// together, each says hello and pushes one small batch; all stay open until every thread is done,
// then the collector's resident set is read. Prints memory per connection and ack latencies.
//   fleet_connect_bench RPC_HOST:PORT COLLECTOR_PID [agents=1000] [threads=4] [hold]
// `hold`: once every agent is acknowledged, prints "holding N connections" and keeps them open
// until its standard input ends (scripts/bench.sh spreads the clients over processes that way and
// reads the collector's memory itself).
// Exit status 1 when an agent was not acknowledged (starved or refused).
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "octolaunch/schema/rpc.capnp.h"
#include "tests/support/event_batches.h"

using namespace octolaunch;

namespace {

using Steady = std::chrono::steady_clock;

long rssKiB(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct Agent {
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
  std::unique_ptr<testing::BatchMessage> batch;
  double ackMs = -1;  // hello sent -> push acknowledged
  double pushMs = -1;
};

kj::Promise<void> runAgent(kj::AsyncIoContext& io, const std::string& address, Agent& agent,
                           int index) {
  return io.provider->getNetwork()
      .parseAddress(address)
      .then([](kj::Own<kj::NetworkAddress> a) { return a->connect().attach(kj::mv(a)); })
      .then([&agent, index](kj::Own<kj::AsyncIoStream> stream) {
        agent.stream = kj::mv(stream);
        agent.rpc = kj::heap<capnp::TwoPartyClient>(*agent.stream);
        const std::string id = "fleet-" + std::to_string(index);
        auto hello = agent.rpc->bootstrap().castAs<schema::Collector>().helloRequest();
        hello.getAgent().setAgentId(id);
        hello.getAgent().setHost("host-" + std::to_string(index));
        hello.setEpoch(1);
        auto specs = testing::outputLines(1, 5, "fleet");
        for (auto& s : specs) s.host = "host-" + std::to_string(index);
        agent.batch =
            std::make_unique<testing::BatchMessage>(id, 1, specs, "host-" + std::to_string(index));
        const auto start = Steady::now();
        return hello.send().then([&agent, start](auto&& response) {
          auto push = response.getIngest().pushRequest();
          push.setEvents(agent.batch->batch().events);
          push.setPreviousSeq(0);
          const auto sent = Steady::now();
          return push.send().then([&agent, start, sent](auto&& ack) {
            const auto now = Steady::now();
            if (ack.getCommittedThroughSeq() == 5) {
              agent.ackMs = std::chrono::duration<double, std::milli>(now - start).count();
              agent.pushMs = std::chrono::duration<double, std::milli>(now - sent).count();
            }
          });
        });
      });
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: fleet_connect_bench RPC_HOST:PORT COLLECTOR_PID [agents] [threads]\n");
    return 2;
  }
  const std::string address = argv[1];
  const std::string pid = argv[2];
  const int agents = argc > 3 ? std::atoi(argv[3]) : 1000;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 4;
  const bool hold = argc > 5 && std::string(argv[5]) == "hold";
  const long idleKiB = rssKiB(pid);

  std::vector<std::vector<Agent>> perThread(static_cast<std::size_t>(threads));
  std::barrier allAcked(threads + 1);
  std::barrier measured(threads + 1);
  std::vector<std::thread> workers;
  const auto start = Steady::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto io = kj::setupAsyncIo();
      auto& mine = perThread[static_cast<std::size_t>(t)];
      mine.resize(static_cast<std::size_t>(agents / threads + (t < agents % threads ? 1 : 0)));
      kj::Vector<kj::Promise<void>> all;
      for (std::size_t i = 0; i < mine.size(); ++i) {
        const int index = t + static_cast<int>(i) * threads;
        all.add(runAgent(io, address, mine[i], index).catch_([](kj::Exception&& e) {
          std::fprintf(stderr, "agent failed: %s\n", e.getDescription().cStr());
        }));
      }
      kj::joinPromises(all.releaseAsArray()).wait(io.waitScope);
      allAcked.arrive_and_wait();
      measured.arrive_and_wait();  // connections stay open until the RSS is read
      for (Agent& a : mine) {      // closed on this thread's loop, before it goes
        a.rpc = nullptr;
        a.stream = nullptr;
      }
    });
  }
  allAcked.arrive_and_wait();
  const double wallMs = std::chrono::duration<double, std::milli>(Steady::now() - start).count();
  const long busyKiB = rssKiB(pid);
  if (hold) {
    std::printf("holding %d connections\n", agents);
    std::fflush(stdout);
    while (std::getchar() != EOF) {
    }
  }
  measured.arrive_and_wait();
  for (auto& w : workers) w.join();

  std::vector<double> ack;
  std::vector<double> push;
  for (auto& group : perThread) {
    for (auto& a : group) {
      if (a.ackMs >= 0) ack.push_back(a.ackMs);
      if (a.pushMs >= 0) push.push_back(a.pushMs);
    }
  }
  std::printf("agents %d over %d threads, acknowledged %zu, wall %.0f ms\n", agents, threads,
              ack.size(), wallMs);
  std::printf("hello+push ack latency ms: p50 %.1f p99 %.1f max %.1f\n", percentile(ack, 0.5),
              percentile(ack, 0.99), percentile(ack, 1.0));
  std::printf("push ack latency ms: p50 %.1f p99 %.1f max %.1f\n", percentile(push, 0.5),
              percentile(push, 0.99), percentile(push, 1.0));
  std::printf(
      "collector RSS idle %.1f MiB, %d connections open %.1f MiB: %.1f KiB per connection\n",
      idleKiB / 1024.0, agents, busyKiB / 1024.0, static_cast<double>(busyKiB - idleKiB) / agents);
  return static_cast<int>(ack.size()) == agents ? 0 : 1;
}
