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

// One agent's pushing loop: keeps one push of the window in flight until every batch is sent;
// adds each push's send -> acknowledgement time to `ackMs`.
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

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void pushLoad(int port, const AgentLoad& o, std::vector<double>& ackMs) {
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
    auto ingest = hello.send().wait(io.waitScope).getIngest();
    for (int w = 0; w < o.window; ++w) {
      all.add(pushAll(ingest, agent->msgs, agent->next, ackMs));
    }
    agents.push_back(std::move(agent));
  }
  kj::joinPromises(all.releaseAsArray()).wait(io.waitScope);
}

}  // namespace octolaunch::bench
