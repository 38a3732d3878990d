// Agents for the ingest benchmarks: A RPC connections, each saying hello and pushing its batches
// of hook.output events with W pushes in flight, on the calling thread's own KJ loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace octolaunch::bench {

struct AgentLoad {
  int agents = 4;
  std::uint64_t perBatch = 2000;
  std::uint64_t total = 400'000;  // events over all agents
  int window = 2;
  std::int64_t firstTimeNs = 1'700'000'000'000'000'000;  // events 1 us apart from here
  std::uint64_t firstSeq = 1;  // the agents' seqs start here (a second load continues the first)
};

// Fairness among agents that all said hello before any pushed: when half of all pushes had been
// acknowledged, how many each agent had, against its fair share (half of its own pushes).
struct Fairness {
  std::size_t pushesPerAgent = 0;
  std::size_t starved = 0;  // agents under 10 % of their fair share at half-time
  double slowestShare = 0;  // the lowest agent's acknowledged pushes / its fair share
};

// Pushes the load to 127.0.0.1:port until every push is acknowledged; adds each push's send ->
// acknowledgement time to ackMs. Every agent says hello before the first push is sent. Throws
// kj::Exception when the collector refuses.
Fairness pushLoad(int port, const AgentLoad& load, std::vector<double>& ackMs);

// The p-quantile (0..1) of v; -1 when v is empty.
double percentile(std::vector<double> v, double p);

}  // namespace octolaunch::bench
