// Removing a secret that slipped past the agent's redaction, end to end: a real agent records a
// hook whose output holds a made-up secret no redaction rule knows, and `octolaunch events purge`
// with an admin token masks it in the real collector's store — and, after a compacting copy, in
// the bytes on disk.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "tests/support/api_tokens.h"
#include "tests/support/harness.h"
#include "tests/support/raw_http.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

// Made up, and in no form the agent's redactor recognises.
constexpr const char* kSecret = "zq-leak-7d3f9a1c44e0b2";
constexpr const char* kPattern = "zq-leak-[0-9a-f]+";

std::string fileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct PurgeFleet {
  PurgeFleet() {
    writeTokenConfig(dir / "collector.toml");
    std::ofstream(dir / "agent.toml") << "[sources]\nenabled = false\n";
    collector.start();
  }
  std::vector<std::string> agentArgs(const std::string& command) {
    std::vector<std::string> argv = {binPath("octolaunch-agent"), command};
    auto f = agentFlags(dir / "spool", "agent-1", "web1", collector.rpcAddress());
    f[1] = (dir / "agent.toml").string();  // --config
    argv.insert(argv.end(), f.begin(), f.end());
    return argv;
  }
  // The raw answer to an authorised GET.
  std::string getText(const std::string& target) {
    return exchange(collector.httpPort(),
                    "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                        "Authorization: Bearer " + kReadToken + "\r\n\r\n",
                    10s);
  }
  // Every event of release r1, oldest first.
  std::vector<nlohmann::json> events() {
    RawReply r = parseReply(getText("/api/v1/events?release=r1&limit=10000"));
    EXPECT_EQ(r.status, 200);
    return r.body.value("events", std::vector<nlohmann::json>{});
  }
  RunResult cli(const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> argv = {binPath("octolaunch"), "--url", collector.url(), "--token",
                                     token};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, 60s);
  }

  // `mdb_copy -c` of the live store into dir/name; returns the copy's data.mdb.
  std::string compactCopy(const std::string& name) {
    const std::filesystem::path copy = dir / name;
    std::filesystem::create_directories(copy);
    RunResult copied = run({"mdb_copy", "-c", (dir / "collector").string(), copy.string()}, 60s);
    EXPECT_EQ(copied.exitCode, 0) << copied.err;
    return fileBytes(copy / "data.mdb");
  }

  TempDir dir;
  CollectorProcess collector{
      {.dataDir = dir / "collector", .config = (dir / "collector.toml").string()}};
};

std::size_t countContaining(const std::vector<nlohmann::json>& events, const std::string& text) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.dump().find(text) != std::string::npos ? 1 : 0;
  return n;
}

// The stored records among events (a purge counts those): the lines of one hook.block share
// (agent_id, epoch, seq). Only events whose JSON holds `text`, when given.
std::size_t recordsOf(const std::vector<nlohmann::json>& events, const std::string& text = {}) {
  std::set<std::string> records;
  for (const auto& e : events) {
    if (text.empty() || e.dump().find(text) != std::string::npos) {
      records.insert(e.value("agent_id", "") + "/" + e.value("epoch", "") + "/" +
                     std::to_string(e.value("seq", 0)));
    }
  }
  return records.size();
}

// True when some 6-byte run of text appears in bytes. Cap'n Proto's packed encoding puts a tag or
// count byte between words, so a stored text may be split, but never into runs this short.
bool holdsPartOf(const std::string& bytes, const std::string& text) {
  for (std::size_t i = 0; i + 6 <= text.size(); ++i) {
    if (bytes.find(text.substr(i, 6)) != std::string::npos) return true;
  }
  return false;
}

TEST(Purge, AnAdminMasksALeakedSecretInTheStoreAndOnDisk) {
  PurgeFleet fleet;
  Process agent({.argv = fleet.agentArgs("run"), .captureStdout = false});
  auto hook = fleet.agentArgs("hook");
  for (std::string a :
       {"--release", "r1", "--service", "api", "--phase", "migrate", "--", "sh", "-c"}) {
    hook.push_back(a);
  }
  hook.push_back(std::string("echo 'step 1 ok'; echo 'vault pass ") + kSecret +
                 " for db'; echo 'step 2 ok'; echo 'again " + kSecret + "' >&2");
  ASSERT_EQ(run(hook, 60s).exitCode, 0);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto events = fleet.events();
        std::size_t outputs = 0, exits = 0;
        for (const auto& e : events) {
          outputs += e.value("kind", "") == "hook.output";
          exits += e.value("kind", "") == "hook.exit";
        }
        return outputs == 4 && exits == 1;
      },
      30s));
  const std::vector<nlohmann::json> before = fleet.events();
  // The premise: redaction let it through (two lines, and the exit's output tail).
  ASSERT_GE(countContaining(before, kSecret), 3u) << nlohmann::json(before).dump();
  // A purge counts stored records: the four lines came in one hook.block.
  const std::size_t leaked = recordsOf(before, kSecret);
  const std::size_t stored = recordsOf(before);

  const std::vector<std::string> purge = {"events", "purge",   "--release",
                                          "r1",     "--match", kPattern};
  for (const char* token : {kReadToken, kWriteToken}) {
    RunResult denied = fleet.cli(token, purge);
    EXPECT_NE(denied.exitCode, 0);
    EXPECT_NE(denied.err.find("scope"), std::string::npos) << denied.err;
  }
  EXPECT_EQ(fleet.events(), before);

  ASSERT_TRUE(holdsPartOf(fleet.compactCopy("before"), kSecret));

  std::vector<std::string> dryRun = purge;
  dryRun.push_back("--dry-run");
  RunResult dry = fleet.cli(kAdminToken, dryRun);
  EXPECT_EQ(dry.exitCode, 0) << dry.err;
  EXPECT_EQ(dry.out, "would rewrite " + std::to_string(leaked) + " of " + std::to_string(stored) +
                         " events of release r1\n");
  EXPECT_EQ(fleet.events(), before);

  RunResult done = fleet.cli(kAdminToken, purge);
  EXPECT_EQ(done.exitCode, 0) << done.err;
  EXPECT_EQ(done.out, "rewrote " + std::to_string(leaked) + " of " + std::to_string(stored) +
                          " events of release r1\n");

  const std::vector<nlohmann::json> after = fleet.events();
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(countContaining(after, kSecret), 0u);
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (before[i].dump().find(kSecret) == std::string::npos) {
      EXPECT_EQ(after[i], before[i]);  // nothing else changed
    } else {
      EXPECT_EQ(after[i].value("seq", 0), before[i].value("seq", 0));
      EXPECT_EQ(after[i].value("time", ""), before[i].value("time", ""));
    }
  }
  std::set<std::string> lines;
  for (const auto& e : after) {
    if (e.value("kind", "") == "hook.output") lines.insert(e["data"].value("line", ""));
  }
  EXPECT_EQ(lines, (std::set<std::string>{"step 1 ok", "vault pass *** for db", "step 2 ok",
                                          "again ***"}));
  const std::string metricsText = fleet.getText("/metrics");
  EXPECT_NE(metricsText.find("octolaunch_purged_events_total " + std::to_string(leaked)),
            std::string::npos)
      << metricsText;

  // The old bytes may live on in LMDB's free pages; a compacting copy has only live data. The
  // copy taken before the purge shows the search finds the secret when it is there.
  EXPECT_FALSE(holdsPartOf(fleet.compactCopy("after"), kSecret));
  EXPECT_TRUE(holdsPartOf(fileBytes(fleet.dir / "before" / "data.mdb"), kSecret));
  ::testing::Test::RecordProperty(
      "live_data_mdb_still_holds_the_secret",
      holdsPartOf(fileBytes(fleet.dir / "collector" / "data.mdb"), kSecret) ? "yes" : "no");
}

TEST(Purge, ErrorsAreExplained) {
  PurgeFleet fleet;
  RunResult unknown =
      fleet.cli(kAdminToken, {"events", "purge", "--release", "nope", "--match", kPattern});
  EXPECT_EQ(unknown.exitCode, 4);  // not found
  EXPECT_NE(unknown.err.find("release nope not found"), std::string::npos) << unknown.err;

  RunResult badPattern =
      fleet.cli(kAdminToken, {"events", "purge", "--release", "r1", "--match", "(unclosed"});
  EXPECT_EQ(badPattern.exitCode, 2);
  EXPECT_NE(badPattern.err.find("match: missing )"), std::string::npos) << badPattern.err;

  RunResult anonymous = fleet.cli("", {"events", "purge", "--release", "r1", "--match", kPattern});
  EXPECT_EQ(anonymous.exitCode, 5);  // not authorised
  EXPECT_NE(anonymous.err.find("token"), std::string::npos) << anonymous.err;
}

}  // namespace
}  // namespace octolaunch::testing
