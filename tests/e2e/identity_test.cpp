// Agent identity end to end with the real binaries: enrollment with a secret, the host fixed at
// enrollment, no ingest without credentials, revocation through the CLI, a cloned installation
// reported and enrolled anew, and an agent upgraded from the shared-token days delivering the
// events left in its spool exactly once.
#include <capnp/rpc-twoparty.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <string>

#include "agent/spool/spool.h"
#include "octolaunch/schema/rpc.capnp.h"
#include "tests/support/event_batches.h"
#include "tests/support/harness.h"
#include "tests/support/process.h"
#include "tests/support/raw_http.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "enroll-secret-0123456789";
constexpr const char* kReadToken = "read-token-0123456789";
constexpr const char* kAdminToken = "admin-token-0123456789";

struct EnrolledFleet {
  // httpTokens: the API needs bearer tokens (read and admin) when true.
  explicit EnrolledFleet(bool httpTokens = false, const std::string& rpcKeys = "") {
    std::ofstream config(dir / "collector.toml");
    config << "[rpc]\n" << rpcKeys;
    if (httpTokens) {
      config << "[http]\ntokens = [{ token = \"" << kReadToken << "\", scope = \"read\" }, "
             << "{ token = \"" << kAdminToken << "\", scope = \"admin\" }]\n";
    }
    std::ofstream(dir / "agent.toml")
        << "[sources]\nenabled = false\n[ship]\nbackoff_max_ms = 200\n";
  }

  std::vector<std::string> agentArgs(const std::string& command, const std::string& spool,
                                     const std::string& id, const std::string& host,
                                     bool withSecret = true) {
    std::vector<std::string> argv = {binPath("octolaunch-agent"), command};
    // Each machine's spool in a directory of its own: the agent socket and the fallback queue sit
    // beside it.
    std::filesystem::create_directories((dir / spool).parent_path());
    auto f = agentFlags(dir / spool, id, host, collector.rpcAddress());
    f[1] = (dir / "agent.toml").string();  // --config
    argv.insert(argv.end(), f.begin(), f.end());
    if (withSecret) {
      argv.push_back("--token");
      argv.push_back(kSecret);
    }
    return argv;
  }
  std::unique_ptr<Process> startAgent(const std::string& spool, const std::string& id,
                                      const std::string& host, bool withSecret = true) {
    return std::make_unique<Process>(ProcessOptions{
        .argv = agentArgs("run", spool, id, host, withSecret), .captureStdout = false});
  }
  // `lines` lines of output recorded for release under the agent's spool.
  void hook(const std::string& spool, const std::string& id, const std::string& host,
            const std::string& release, int lines) {
    auto argv = agentArgs("hook", spool, id, host);
    const std::string script =
        "i=0; while [ $i -lt " + std::to_string(lines) + " ]; do i=$((i+1)); echo line $i; done";
    for (std::string a : {"--release", release.c_str(), "--service", "api", "--phase", "migrate",
                          "--", "sh", "-c", script.c_str()})
      argv.push_back(a);
    ASSERT_EQ(run(argv, 60s).exitCode, 0);
  }

  nlohmann::json get(const std::string& target, const std::string& token = "") {
    std::string text = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!token.empty()) text += "Authorization: Bearer " + token + "\r\n";
    return parseReply(exchange(collector.httpPort(), text + "\r\n", 10s)).body;
  }
  std::vector<nlohmann::json> events(const std::string& query, const std::string& token = "") {
    return get("/api/v1/events?limit=10000&" + query, token)["events"]
        .get<std::vector<nlohmann::json>>();
  }
  nlohmann::json agents(const std::string& token = "") {
    return get("/api/v1/agents", token)["agents"];
  }
  std::uint64_t hellosRejected(const std::string& token = "") {
    std::string text = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!token.empty()) text += "Authorization: Bearer " + token + "\r\n";
    const std::string reply = exchange(collector.httpPort(), text + "\r\n", 10s);
    const std::string name = "\noctolaunch_ingest_hellos_rejected_total ";
    auto at = reply.find(name);
    return at == std::string::npos ? 0 : std::stoull(reply.substr(at + name.size()));
  }

  TempDir dir;
  CollectorProcess collector{{.dataDir = dir / "collector",
                              .extraArgs = {"--agent-token", kSecret},
                              .config = (dir / "collector.toml").string()}};
};

TEST(Identity, AnAgentEnrollsOnceAndItsEventsCarryTheEnrolledHost) {
  EnrolledFleet fleet;
  fleet.collector.start();
  fleet.hook("spool", "agent-1", "web-1", "r1", 10);
  auto agent = fleet.startAgent("spool", "agent-1", "web-1");
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r1&host=web-1").size() == 11; }, 30s))
      << fleet.events("release=r1").size();

  const std::filesystem::path keyFile = fleet.dir / "spool" / "agent.key";
  struct stat st {};
  ASSERT_EQ(::stat(keyFile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(keyFile);
  const std::string keyText((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(keyText.find(kSecret), std::string::npos) << "the secret is not kept beside the key";
  nlohmann::json agents = fleet.agents();
  ASSERT_EQ(agents.size(), 1u) << agents.dump();
  EXPECT_EQ(agents[0]["agent_id"], "agent-1");
  EXPECT_EQ(agents[0]["host"], "web-1");
  EXPECT_EQ(agents[0]["status"], "active");

  // The same agent claiming another host name: its events stay under the enrolled one.
  agent.reset();
  fleet.hook("spool", "agent-1", "db-9", "r2", 5);
  agent = fleet.startAgent("spool", "agent-1", "db-9");
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r2").size() == 6; }, 30s));
  EXPECT_EQ(fleet.events("release=r2&host=web-1").size(), 6u);
  EXPECT_EQ(fleet.events("host=db-9").size(), 0u);
}

TEST(Identity, NoCredentialsNoIngest) {
  EnrolledFleet fleet;
  fleet.collector.start();
  auto stranger = fleet.startAgent("spool", "agent-2", "web-2", /*withSecret=*/false);
  {
    auto argv = fleet.agentArgs("hook", "spool", "agent-2", "web-2", false);
    for (std::string a : {"--release", "r9", "--", "echo", "hello"}) argv.push_back(a);
    ASSERT_EQ(run(argv, 60s).exitCode, 0);
  }
  // Several refused hellos after the hook's events were spooled: they were offered and refused.
  ASSERT_TRUE(waitUntil([&] { return fleet.hellosRejected() >= 3; }, 30s));
  EXPECT_TRUE(fleet.events("release=r9").empty());
  EXPECT_TRUE(fleet.agents().empty());
}

TEST(Identity, ARevokedAgentIsCutOffAndOnlyAnAdminMayRevoke) {
  EnrolledFleet fleet(/*httpTokens=*/true);
  fleet.collector.start();
  auto agent = fleet.startAgent("spool", "agent-1", "web-1");
  fleet.hook("spool", "agent-1", "web-1", "r1", 3);
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r1", kReadToken).size() == 4; }, 30s));

  auto cli = [&](const std::string& token) {
    return run({binPath("octolaunch"), "--url", fleet.collector.url(), "--token", token, "agents",
                "revoke", "agent-1"},
               30s);
  };
  EXPECT_NE(cli(kReadToken).exitCode, 0);  // 403: revoking needs the admin scope
  EXPECT_EQ(fleet.agents(kReadToken)[0]["status"], "active");
  RunResult revoked = cli(kAdminToken);
  ASSERT_EQ(revoked.exitCode, 0) << revoked.out;
  EXPECT_NE(revoked.out.find("revoked at"), std::string::npos) << revoked.out;
  EXPECT_EQ(fleet.agents(kReadToken)[0]["status"], "revoked");

  const std::uint64_t before = fleet.hellosRejected(kReadToken);
  fleet.hook("spool", "agent-1", "web-1", "r2", 3);
  ASSERT_TRUE(waitUntil([&] { return fleet.hellosRejected(kReadToken) >= before + 3; }, 30s));
  EXPECT_TRUE(fleet.events("release=r2", kReadToken).empty());
  EXPECT_EQ(fleet.events("release=r1", kReadToken).size(), 4u);  // what it sent before stays
}

TEST(Identity, ACloneIsReportedAndEnrollsAsANewAgentWithItsOwnEvents) {
  EnrolledFleet fleet;
  fleet.collector.start();
  auto original = fleet.startAgent("a/spool", "agent-1", "web-1");
  fleet.hook("a/spool", "agent-1", "web-1", "r1", 3);
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r1").size() == 4; }, 30s));
  original.reset();
  // The image is copied while the agent is stopped: key file, spool and epoch alike.
  std::filesystem::create_directories(fleet.dir / "b");
  ASSERT_EQ(
      run({"cp", "-a", (fleet.dir / "a/spool").string(), (fleet.dir / "b/spool").string()}, 30s)
          .exitCode,
      0);
  original = fleet.startAgent("a/spool", "agent-1", "web-1");
  fleet.hook("a/spool", "agent-1", "web-1", "r-original", 2);
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r-original").size() == 3; }, 30s));

  fleet.hook("b/spool", "agent-1", "web-1", "r-clone", 4);
  auto clone = fleet.startAgent("b/spool", "agent-1", "web-1");
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r-clone").size() == 5; }, 30s))
      << fleet.agents().dump();
  nlohmann::json agents = fleet.agents();
  ASSERT_EQ(agents.size(), 2u) << agents.dump();
  EXPECT_EQ(agents[0]["agent_id"], "agent-1");
  EXPECT_GE(agents[0]["clones_reported"].get<int>(), 1);
  const std::string cloneId = agents[1]["agent_id"];
  EXPECT_EQ(cloneId.rfind("agent-1-", 0), 0u) << cloneId;
  std::set<std::pair<std::uint64_t, int>> lines;  // (seq, part): a line's address
  for (const auto& e : fleet.events("release=r-clone")) {
    EXPECT_EQ(e["agent_id"], cloneId);
    EXPECT_NE(e["epoch"], fleet.events("release=r-original")[0]["epoch"]);
    lines.emplace(e["seq"].get<std::uint64_t>(), e["data"].value("part", 0));
  }
  EXPECT_EQ(lines.size(), 5u);  // none skipped as a redelivery of the original's
  for (const auto& e : fleet.events("release=r-original")) EXPECT_EQ(e["agent_id"], "agent-1");
  // The original is not disturbed by the clone.
  fleet.hook("a/spool", "agent-1", "web-1", "r-after", 1);
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r-after").size() == 2; }, 30s));
  for (const auto& e : fleet.events("release=r-after")) EXPECT_EQ(e["agent_id"], "agent-1");
}

// An agent of the shared-token days: hello() with the secret as its token, no key.
std::uint64_t pushAsOlderAgent(int rpcPort, agent::Spool& spool, const std::string& agentId,
                               std::size_t count) {
  auto io = kj::setupAsyncIo();
  auto stream = io.provider->getNetwork()
                    .parseAddress("127.0.0.1", static_cast<unsigned>(rpcPort))
                    .wait(io.waitScope)
                    ->connect()
                    .wait(io.waitScope);
  capnp::TwoPartyClient client(*stream);
  auto collector = client.bootstrap().castAs<schema::Collector>();
  auto hello = collector.helloRequest();
  hello.getAgent().setAgentId(agentId);
  hello.getAgent().setHost("web-1");
  hello.setEpoch(spool.epoch());
  hello.getCredentials().setToken(kSecret);
  auto session = hello.send().wait(io.waitScope);
  std::vector<kj::Array<capnp::word>> copies;
  spool.readAfter(0, count, [&](std::uint64_t, kj::ArrayPtr<const capnp::word> words) {
    copies.push_back(kj::heapArray(words));
  });
  auto push = session.getIngest().pushRequest();
  auto list = push.initEvents(static_cast<unsigned>(copies.size()));
  for (unsigned i = 0; i < copies.size(); ++i) {
    capnp::FlatArrayMessageReader reader(copies[i]);
    list.setWithCaveats(i, reader.getRoot<schema::Event>());
    list[i].setAgentId(agentId);
    list[i].setHost("web-1");
  }
  push.setPreviousSeq(0);
  return push.send().wait(io.waitScope).getCommittedThroughSeq();
}

TEST(Identity, AnAgentUpgradedWithEventsInItsSpoolDeliversThemOnce) {
  EnrolledFleet fleet(false, "accept_shared_tokens = true\n");
  fleet.collector.start();
  {
    // The old agent recorded 200 lines, delivered half, and died before deleting them.
    auto spool = agent::Spool::open({fleet.dir / "spool"});
    BatchMessage recorded("", 0, outputLines(1, 200, "r-upgrade"));
    auto list = recorded.batch().events;
    std::vector<schema::Event::Reader> events;
    for (auto e : list) events.push_back(e);
    ASSERT_EQ(spool->append(events), 200u);
    EXPECT_EQ(pushAsOlderAgent(fleet.collector.rpcPort(), *spool, "agent-1", 100), 100u);
    EXPECT_EQ(spool->pendingCount(), 200u);
  }
  // The collector is upgraded (shared tokens off), then the agent.
  fleet.collector.stop();
  std::ofstream(fleet.dir / "collector.toml") << "[rpc]\n";
  fleet.collector.start();
  auto agent = fleet.startAgent("spool", "agent-1", "web-1");
  ASSERT_TRUE(waitUntil([&] { return fleet.events("release=r-upgrade").size() >= 200; }, 30s));
  ASSERT_TRUE(waitUntil([&] { return fleet.agents().size() == 1; }, 10s));
  auto events = fleet.events("release=r-upgrade");
  std::set<std::uint64_t> seqs;
  std::set<std::string> envelopes;  // the older agent sent its envelope; the upgraded one leaves
                                    // it to the collector ("sessionEnvelope"): the same either way
  for (const auto& e : events) {
    seqs.insert(e["seq"].get<std::uint64_t>());
    envelopes.insert(e["agent_id"].get<std::string>() + " " + e["host"].get<std::string>() + " " +
                     e["epoch"].get<std::string>());
  }
  EXPECT_EQ(envelopes.size(), 1u);
  EXPECT_EQ(envelopes.begin()->substr(0, 14), "agent-1 web-1 ") << *envelopes.begin();
  EXPECT_NE(envelopes.begin()->substr(14), std::string(16, '0')) << "the spool's epoch";
  EXPECT_EQ(events.size(), 200u);
  EXPECT_EQ(seqs.size(), 200u);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), 200u);
  EXPECT_EQ(fleet.agents()[0]["status"], "active");
}

}  // namespace
}  // namespace octolaunch::testing
