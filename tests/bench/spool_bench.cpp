// Spool append throughput: B batches of N hook.output events (~100-byte lines), each batch one
// append (one synced LMDB transaction), into a fresh spool in a temp dir.
//   spool_bench [batches=50] [events-per-batch=2000]
#include <capnp/message.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/spool/spool.h"
#include "tests/support/temp_dir.h"

using namespace octolaunch;

int main(int argc, char** argv) {
  const int batches = argc > 1 ? std::atoi(argv[1]) : 50;
  const int perBatch = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (batches <= 0 || perBatch <= 0) {
    std::fprintf(stderr, "usage: spool_bench [batches] [events-per-batch]\n");
    return 2;
  }
  testing::TempDir dir;
  auto spool = agent::Spool::open({dir / "spool", std::uint64_t{512} << 20});
  const std::string line(100, 'y');
  double seconds = 0;
  for (int b = 0; b < batches; ++b) {
    // Build the batch first so only the append is timed.
    capnp::MallocMessageBuilder message;
    std::vector<capnp::Orphan<schema::Event>> orphans;
    std::vector<schema::Event::Reader> readers;
    for (int i = 0; i < perBatch; ++i) {
      auto orphan = message.getOrphanage().newOrphan<schema::Event>();
      auto e = orphan.get();
      e.setTimeNs(1);
      e.setRelease("r1");
      auto out = e.getPayload().initHookOutput();
      out.setLineNo(static_cast<std::uint32_t>(b * perBatch + i + 1));
      out.setLine(line);
      orphans.push_back(std::move(orphan));
    }
    for (const auto& o : orphans) readers.push_back(o.getReader());
    const auto start = std::chrono::steady_clock::now();
    spool->append(readers);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const auto total = static_cast<std::uint64_t>(batches) * static_cast<std::uint64_t>(perBatch);
  if (spool->lastSeq() != total) {
    std::fprintf(stderr, "spool holds %llu events, expected %llu\n",
                 static_cast<unsigned long long>(spool->lastSeq()),
                 static_cast<unsigned long long>(total));
    return 1;
  }
  std::printf("spool append: %llu events of ~100 bytes in batches of %d: %.0f events/s\n",
              static_cast<unsigned long long>(total), perBatch,
              static_cast<double>(total) / seconds);
  return 0;
}
