// The collector's disk fills up under real agents, then space returns: nothing acknowledged is
// lost and nothing is stored twice. The collector's data dir is on a small tmpfs of its own; the
// agents (octolaunch-agent run + hook wrappers, spools on the ordinary temp dir) push mixed batches
// of hook output, hook exits and, in each agent's stream, a hook whose release id is longer than
// the collector accepts (the agent records it cut to fit, so it is stored, not quarantined; the
// collector's quarantine of events it cannot store is tested in ingest_test). Afterwards the store
// is opened read-only by this test and every (agent, epoch, seq) the agents assigned is looked up.
//
// Needs root (mount). Outside CI it skips with the reason; under CI=true it fails instead. It uses
// the host kernel (tmpfs): run it under the shared host-kernel lock (ctest: RESOURCE_LOCK).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/harness.h"
#include "tests/support/skip.h"
#include "tests/support/tmpfs.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

// Writes file until the file system has at most leaveBytes free.
void fillLeaving(const std::filesystem::path& file, std::uint64_t leaveBytes) {
  std::ofstream out(file, std::ios::binary);
  const std::string block(1 << 16, 'f');
  for (;;) {
    const auto space = std::filesystem::space(file.parent_path());
    if (space.available <= leaveBytes + block.size()) break;
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
    out.flush();
    ASSERT_TRUE(out.good()) << "writing the filler failed early";
  }
}

// The value of a metric line "name value" in one scrape (Prometheus text); -1 when absent.
double metricIn(const std::string& scrape, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const auto at = scrape.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(scrape.substr(at + key.size()));
}

double metric(int httpPort, const std::string& name) {
  return metricIn(httpGet(httpPort, "/metrics").raw, name);
}

struct Agent {
  std::string id;
  std::filesystem::path spool;
  std::unique_ptr<Process> daemon;
};

TEST(DiskFull, NothingIsLostOrDoubledWhenTheCollectorsDiskFillsAndEmpties) {
  if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("mounting a tmpfs needs root");
  TempDir dir;
  Tmpfs disk(dir / "disk", "size=128m");
  if (!disk.ok()) OCTOLAUNCH_SKIP_UNLESS_CI(disk.error());
  CollectorProcess collector({.dataDir = dir / "disk" / "collector"});
  collector.start();

  // The agents send only what their hooks produce; a short backoff ceiling keeps the test short.
  const std::filesystem::path config = dir / "agent.toml";
  std::ofstream(config) << "[sources]\nenabled = false\n[ship]\nbackoff_max_ms = 1000\n";
  constexpr int kAgents = 4;
  constexpr int kRounds = 8;
  constexpr int kLines = 2500;  // per hook run; each run also stores its hook.exit
  std::vector<Agent> agents;
  auto flagsOf = [&](const Agent& a) {
    auto f = agentFlags(a.spool, a.id, a.id + ".example", collector.rpcAddress());
    f[1] = config.string();  // --config
    return f;
  };
  for (int i = 0; i < kAgents; ++i) {
    Agent a{.id = "agent-" + std::to_string(i), .spool = dir / std::to_string(i) / "spool"};
    // Its agent socket and fallback queue sit beside the spool: one directory per machine.
    std::filesystem::create_directories(a.spool.parent_path());
    std::vector<std::string> argv = {binPath("octolaunch-agent"), "run"};
    auto f = flagsOf(a);
    argv.insert(argv.end(), f.begin(), f.end());
    a.daemon = std::make_unique<Process>(ProcessOptions{.argv = argv, .captureStdout = false});
    agents.push_back(std::move(a));
  }
  auto hook = [&](const Agent& a, const std::string& release, const std::string& script) {
    std::vector<std::string> argv = {binPath("octolaunch-agent"), "hook"};
    auto f = flagsOf(a);
    argv.insert(argv.end(), f.begin(), f.end());
    for (const std::string& arg :
         {std::string("--release"), release, std::string("--service"), std::string("api"),
          std::string("--"), std::string("sh"), std::string("-c"), script}) {
      argv.push_back(arg);
    }
    return std::make_unique<Process>(
        ProcessOptions{.argv = argv, .captureStdout = false, .discardStdout = true});
  };
  // Random digits in every line: the store compresses hook output, and lines that differ only
  // in their number would take too little room to fill the disk.
  const std::string lines = "awk 'BEGIN { srand(); for (i = 1; i <= " + std::to_string(kLines) +
                            "; i++) { print \"row \" i \" \" int(rand() * 1e15); if (i % 500 == "
                            "0) print \"err \" i > \"/dev/stderr\" } }'; exit 3";
  const std::string poisonRelease(300, 'p');  // over the collector's limit: the agent cuts it

  // Leave room for part of the traffic only: the disk fills while the agents push.
  fillLeaving(dir / "disk" / "filler", std::uint64_t{384} << 10);

  std::map<std::string, std::uint64_t> sent;  // source records (lines, exits) each agent recorded
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::unique_ptr<Process>> running;
    for (const Agent& a : agents) {
      if (round == kRounds / 2) {
        // One output line and the exit, with the over-long release, among their neighbours.
        auto poison = hook(a, poisonRelease, "echo poisoned");
        ASSERT_TRUE(poison->wait(60s).has_value());
        sent[a.id] += 2;
      }
      running.push_back(hook(a, "r" + std::to_string(round), lines));
    }
    for (auto& p : running) {
      auto status = p->wait(120s);
      ASSERT_TRUE(status.has_value()) << "a hook did not finish";
      EXPECT_EQ(exitCodeOf(*status), 3);  // the command's status, disk full or not
    }
    for (const Agent& a : agents) sent[a.id] += kLines + kLines / 500 + 1;
  }

  // The disk is full and the collector says so, by kind: every failed commit is a "full" one.
  ASSERT_TRUE(
      waitUntil([&] { return metric(collector.httpPort(), "octolaunch_store_full") == 1; }, 60s))
      << "the collector never reported a full store";
  // One scrape for both counters: the agents keep retrying, and a commit refused between two
  // scrapes would count in the second only.
  const std::string scrape = httpGet(collector.httpPort(), "/metrics").raw;
  const double fullErrors = metricIn(scrape, "octolaunch_ingest_commit_errors_full_total");
  EXPECT_GT(fullErrors, 0);
  EXPECT_EQ(metricIn(scrape, "octolaunch_ingest_commit_errors_total"), fullErrors);

  // Space returns: ingest resumes by itself, and every agent's records arrive.
  std::filesystem::remove(dir / "disk" / "filler");
  auto caughtUp = [&] {
    HttpResult hosts = httpGet(collector.httpPort(), "/api/v1/hosts");
    if (hosts.status != 200 || hosts.body["hosts"].size() != agents.size()) return false;
    for (const auto& h : hosts.body["hosts"]) {
      if (h["events_stored"].get<std::uint64_t>() != sent[h["agent_id"].get<std::string>()]) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(waitUntil(caughtUp, 180s))
      << "agents did not catch up: " << httpGet(collector.httpPort(), "/api/v1/hosts").raw;
  EXPECT_EQ(metric(collector.httpPort(), "octolaunch_store_full"), 0);
  EXPECT_EQ(metric(collector.httpPort(), "octolaunch_store_quarantined_events"), 0);
  for (Agent& a : agents) a.daemon->kill9();
  ASSERT_EQ(collector.stop(), 0);

  // Count every line's address (agent, seq, part) in the store: events and quarantine. Hook
  // lines travel in blocks (one seq, parts from 0); every other record is part 0 of its seq.
  lmdb::Env env = openCollectorEnv(dir / "disk" / "collector");
  SystemClock clock;
  LmdbEventStore store(env, clock);
  std::map<std::string, std::uint64_t> epochOf;
  // (agent, seq, part) -> times stored
  std::map<std::tuple<std::string, std::uint64_t, std::uint32_t>, int> seen;
  std::map<std::string, std::uint64_t> lastSeq;
  std::uint64_t stored = 0;
  std::uint64_t cutReleases = 0;  // the over-long release, recorded cut with its marker
  store.forEachEvent({}, [&](schema::Event::Reader e) {
    const std::string release = e.getRelease().cStr();
    if (release.size() > 12 && release.ends_with("[truncated]")) ++cutReleases;
    const std::string agent = e.getAgentId().cStr();
    epochOf.emplace(agent, e.getEpoch());
    EXPECT_EQ(epochOf[agent], e.getEpoch()) << "one spool, one epoch";
    const std::uint32_t part =
        e.getPayload().isHookOutput() ? e.getPayload().getHookOutput().getPart() : 0;
    ++seen[{agent, e.getSeq(), part}];
    lastSeq[agent] = std::max(lastSeq[agent], e.getSeq());
    ++stored;
    return true;
  });
  std::uint64_t quarantined = 0;
  for (const QuarantinedEvent& q : store.quarantined(1000)) {
    ADD_FAILURE() << "quarantined: " << q.reason;
    ++seen[{q.agentId, q.seq, 0}];
    ++quarantined;
  }
  std::uint64_t total = 0;
  std::uint64_t lost = 0;
  std::uint64_t doubled = 0;
  for (const auto& [agent, count] : sent) {
    total += count;
    // Every seq the spool assigned arrived (a lost block would leave a hole), none twice.
    for (std::uint64_t seq = 1; seq <= lastSeq[agent]; ++seq) {
      auto it = seen.lower_bound({agent, seq, 0});
      if (it == seen.end() || std::get<0>(it->first) != agent || std::get<1>(it->first) != seq) {
        ++lost;
      }
    }
    for (const auto& [address, times] : seen) {
      if (std::get<0>(address) == agent && times > 1)
        doubled += static_cast<std::uint64_t>(times - 1);
    }
  }
  std::cout << "disk full: events sent " << total << ", stored " << stored << ", quarantined "
            << quarantined << ", lost " << lost << ", doubled " << doubled
            << ", full commits refused " << fullErrors << std::endl;
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(doubled, 0u);
  EXPECT_EQ(quarantined, 0u);
  EXPECT_EQ(cutReleases, 2u * kAgents);
  EXPECT_EQ(stored + quarantined, total);
  EXPECT_EQ(seen.size(), total) << "lines beyond what the agents recorded";
}

}  // namespace
}  // namespace octolaunch::testing
