// The event mix of scripts/bench.sh (tests/bench/event_mix.h), written where each figure reads it:
//
//   bench_mix spool ROOT AGENTS EVENTS_PER_AGENT
//       fills ROOT/a<K>/spool (K = 0..AGENTS-1) with agent K's events as the agent records them
//       (hook lines in hook.block records), in appends of about 2,000 events (one synced
//       transaction each), as a host whose collector was unreachable would hold them.
//   bench_mix lmdb DIR AGENTS EVENTS_PER_AGENT TXN_EVENTS
//       the plain-LMDB reference: the same records as the Cap'n Proto bytes an agent sends (agent
//       id and host filled in), appended under increasing 8-byte keys to one database in DIR,
//       records of TXN_EVENTS events per synced transaction. Messages are built first; only the
//       appends are timed. Prints "seconds S events N".
//   bench_mix export FILE AGENTS EVENTS_PER_AGENT
//       the same records in the systemd journal's export format, for systemd-journal-remote.
//
// Exit status 1 on a storage error, 2 on a usage error.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <lmdb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/spool/spool.h"
#include "tests/bench/event_mix.h"

using namespace octolaunch;

namespace {

constexpr std::uint64_t kAppendEvents = 2000;

int usage() {
  std::fprintf(stderr,
               "usage: bench_mix spool ROOT AGENTS EVENTS_PER_AGENT\n"
               "       bench_mix lmdb DIR AGENTS EVENTS_PER_AGENT TXN_EVENTS\n"
               "       bench_mix export FILE AGENTS EVENTS_PER_AGENT\n");
  return 2;
}

int fillSpools(const std::filesystem::path& root, std::uint32_t agents, std::uint64_t perAgent) {
  for (std::uint32_t a = 0; a < agents; ++a) {
    auto spool = agent::Spool::open(
        {root / ("a" + std::to_string(a)) / "spool", std::uint64_t{64} << 30, nullptr, 0});
    const std::vector<bench::MixRecord> records = bench::mixRecords(a, perAgent);
    for (std::size_t first = 0; first < records.size();) {
      capnp::MallocMessageBuilder message;
      std::vector<capnp::Orphan<schema::Event>> orphans;
      std::vector<schema::Event::Reader> readers;
      std::uint64_t events = 0;
      for (; first < records.size() && events < kAppendEvents; ++first) {
        auto orphan = message.getOrphanage().newOrphan<schema::Event>();
        bench::buildRecord(a, records[first], orphan.get());
        orphans.push_back(std::move(orphan));
        events += records[first].count;
      }
      for (const auto& o : orphans) readers.push_back(o.getReader());
      if (spool->append(readers) != readers.size()) {
        std::fprintf(stderr, "bench_mix: spool of agent %u shed events\n", a);
        return 1;
      }
    }
  }
  return 0;
}

int check(int rc, const char* what) {
  if (rc != 0) std::fprintf(stderr, "bench_mix: %s: %s\n", what, mdb_strerror(rc));
  return rc;
}

int lmdbAppend(const std::filesystem::path& dir, std::uint32_t agents, std::uint64_t perAgent,
               std::uint64_t txnEvents) {
  std::vector<kj::Array<capnp::word>> values;
  std::vector<std::uint32_t> counts;  // events in each value
  for (std::uint32_t a = 0; a < agents; ++a) {
    std::uint64_t seq = 0;
    for (const bench::MixRecord& r : bench::mixRecords(a, perAgent)) {
      capnp::MallocMessageBuilder message;
      auto e = message.initRoot<schema::Event>();
      e.setAgentId("bench-agent-" + std::to_string(a));
      e.setEpoch(1);
      e.setSeq(++seq);
      e.setHost("bench-" + std::to_string(a));
      bench::buildRecord(a, r, e);
      values.push_back(capnp::messageToFlatArray(message));
      counts.push_back(r.count);
    }
  }
  std::filesystem::create_directories(dir);
  MDB_env* env = nullptr;
  if (check(mdb_env_create(&env), "mdb_env_create") ||
      check(mdb_env_set_mapsize(env, std::size_t{64} << 30), "mdb_env_set_mapsize") ||
      check(mdb_env_open(env, dir.c_str(), 0, 0600), "mdb_env_open"))
    return 1;
  MDB_dbi dbi = 0;
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t key = 0;
  std::uint64_t events = 0;
  for (std::size_t i = 0; i < values.size();) {
    MDB_txn* txn = nullptr;
    if (check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin")) return 1;
    if (i == 0 && check(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open")) return 1;
    for (std::uint64_t inTxn = 0; i < values.size() && inTxn < txnEvents; ++i) {
      inTxn += counts[i];
      events += counts[i];
      ++key;
      unsigned char k[8];
      for (int b = 0; b < 8; ++b) k[b] = static_cast<unsigned char>(key >> (56 - 8 * b));
      MDB_val mk{sizeof k, k};
      auto bytes = values[i].asBytes();
      MDB_val mv{bytes.size(), bytes.begin()};
      if (check(mdb_put(txn, dbi, &mk, &mv, MDB_APPEND), "mdb_put")) return 1;
    }
    if (check(mdb_txn_commit(txn), "mdb_txn_commit")) return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  mdb_env_close(env);
  std::printf("seconds %.6f events %llu\n", secs, static_cast<unsigned long long>(events));
  return 0;
}

int writeExport(const std::filesystem::path& file, std::uint32_t agents, std::uint64_t perAgent) {
  std::ofstream out(file, std::ios::binary);
  std::string chunk;
  for (std::uint32_t a = 0; a < agents; ++a) {
    for (std::uint64_t i = 0; i < perAgent; ++i) {
      bench::appendExportEntry(bench::mixEvent(a, i), chunk);
      if (chunk.size() > (1 << 20)) {
        out << chunk;
        chunk.clear();
      }
    }
  }
  out << chunk;
  out.close();
  if (!out) {
    std::fprintf(stderr, "bench_mix: cannot write %s\n", file.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return usage();
  const std::string mode = argv[1];
  const std::filesystem::path where = argv[2];
  const auto agents = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
  const std::uint64_t perAgent = std::strtoull(argv[4], nullptr, 10);
  if (agents == 0 || perAgent == 0) return usage();
  try {
    if (mode == "spool" && argc == 5) return fillSpools(where, agents, perAgent);
    if (mode == "export" && argc == 5) return writeExport(where, agents, perAgent);
    if (mode == "lmdb" && argc == 6) {
      const std::uint64_t txnEvents = std::strtoull(argv[5], nullptr, 10);
      if (txnEvents == 0) return usage();
      return lmdbAppend(where, agents, perAgent, txnEvents);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mix: %s\n", e.what());
    return 1;
  }
  return usage();
}
