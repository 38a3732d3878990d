#include "tests/bench/rpc_agents.h"

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "octolaunch/schema/rpc.capnp.h"
#include "tests/support/event_batches.h"

namespace octolaunch::bench {

namespace {

using Steady = std::chrono::steady_clock;

struct Agent {
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
  schema::Ingest::Client ingest = nullptr;
  std::vector<std::unique_ptr<testing::BatchMessage>> msgs;
  std::size_t next = 0;
  std::size_t acked = 0;
};

// What every agent's acknowledgements add to: their times, and the counts at half-time.
struct Tally {
  std::vector<double>& ackMs;
  std::vector<std::unique_ptr<Agent>>& agents;
  std::size_t half;
  std::size_t acked = 0;
  std::vector<std::size_t> atHalf;  // each agent's acknowledged pushes once `half` were
};

// One agent's pushing loop: keeps one push of the window in flight until every batch is sent.
kj::Promise<void> pushAll(Agent& agent, Tally& tally) {
  if (agent.next >= agent.msgs.size()) return kj::READY_NOW;
  auto req = agent.ingest.pushRequest();
  req.setEvents(agent.msgs[agent.next++]->batch().events);
  const auto sent = Steady::now();
  return req.send().then([&agent, &tally, sent](auto) {
    tally.ackMs.push_back(std::chrono::duration<double, std::milli>(Steady::now() - sent).count());
    ++agent.acked;
    if (++tally.acked == tally.half) {
      for (const auto& a : tally.agents) tally.atHalf.push_back(a->acked);
    }
    return pushAll(agent, tally);
  });
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

Fairness pushLoad(int port, const AgentLoad& o, std::vector<double>& ackMs) {
  auto io = kj::setupAsyncIo();
  const std::uint64_t batchesPerAgent = o.total / o.perBatch / static_cast<std::uint64_t>(o.agents);
  std::vector<std::unique_ptr<Agent>> agents;
  for (int a = 0; a < o.agents; ++a) {
    auto agent = std::make_unique<Agent>();
    const std::string id = "agent-" + std::to_string(a);
    for (std::uint64_t b = 0; b < batchesPerAgent; ++b) {
      const std::uint64_t first = o.firstSeq + b * o.perBatch;
      auto specs =
          testing::outputLines(first, first + o.perBatch - 1, "r42",
                               o.firstTimeNs - static_cast<std::int64_t>(o.firstSeq) * 1000, 1000);
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
    agent->ingest = hello.send().wait(io.waitScope).getIngest();
    agents.push_back(std::move(agent));
  }
  const std::size_t pushes = agents.size() * static_cast<std::size_t>(batchesPerAgent);
  Tally tally{ackMs, agents, pushes / 2};
  kj::Vector<kj::Promise<void>> all;
  for (auto& agent : agents) {
    for (int w = 0; w < o.window; ++w) all.add(pushAll(*agent, tally));
  }
  kj::joinPromises(all.releaseAsArray()).wait(io.waitScope);

  Fairness fairness;
  fairness.pushesPerAgent = static_cast<std::size_t>(batchesPerAgent);
  const double share = static_cast<double>(batchesPerAgent) / 2;
  fairness.slowestShare = tally.atHalf.empty() ? 0 : 1e9;
  for (std::size_t got : tally.atHalf) {
    if (static_cast<double>(got) < share / 10) ++fairness.starved;
    fairness.slowestShare = std::min(fairness.slowestShare, static_cast<double>(got) / share);
  }
  return fairness;
}

}  // namespace octolaunch::bench
