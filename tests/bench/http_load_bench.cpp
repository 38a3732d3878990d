// GET /healthz latency of the real collector, alone and beside 2,000 idle and 50 slow clients
// (headers a byte per second): http_load_bench [requests] [idle] [slow]. Prints p50/p99/max.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/raw_http.h"

namespace {

using namespace octolaunch::testing;
using Clock = std::chrono::steady_clock;

// Each request on a fresh connection, as a health checker sends it.
void measure(const char* label, int port, int requests) {
  std::vector<double> ms;
  int failed = 0;
  for (int i = 0; i < requests; ++i) {
    const auto start = Clock::now();
    const RawReply reply =
        parseReply(exchange(port, getRequest("/healthz"), std::chrono::seconds(10)));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    failed += reply.status != 200;
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-36s n=%d  p50 %.2f ms  p99 %.2f ms  max %.2f ms  failed %d\n", label, requests,
              ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back(), failed);
}

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::size_t idle = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2000;
  const std::size_t slow = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 50;
  if (!raiseOpenFileLimit(idle + slow + 1024)) {
    std::fprintf(stderr, "cannot raise RLIMIT_NOFILE to %zu\n", idle + slow + 1024);
    return 1;
  }
  TempDir dir;
  // The defaults, with a header timeout that holds the stalled clients for the whole run.
  std::ofstream(dir / "collector.toml") << "[http]\nheader_timeout_ms = 600000\n";
  CollectorProcess collector(
      {.dataDir = dir / "collector", .config = (dir / "collector.toml").string()});
  collector.start();
  measure("alone", collector.httpPort(), requests);
  StalledClients stalled(collector.httpPort(), idle, slow);
  const std::string loaded =
      "beside " + std::to_string(idle) + " idle + " + std::to_string(slow) + " slow";
  measure(loaded.c_str(), collector.httpPort(), requests);
  std::printf("stalled connections closed by the collector meanwhile: %zu\n",
              stalled.closedByServer());
  return 0;
}
