// The collector's RPC port under floods, with the real binary: what a peer that has not said
// hello may cost (bytes, time, a connection slot), what a peer that does not read its answers may
// cost, and that a quiet agent keeps its connection. Memory is the collector's resident set
// (/proc/PID/status); counts come from GET /metrics.
#include <arpa/inet.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "octolaunch/schema/rpc.capnp.h"
#include "tests/support/harness.h"
#include "tests/support/raw_http.h"
#include "tests/support/sanitizer_build.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kMiB = 1 << 20;

// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"); negative when it cannot be read.
std::int64_t statusBytes(pid_t pid, const std::string& field) {
  return procStatusKiB(pid, field) * 1024;
}

// The value of one sample of GET /metrics ("name" or "name{label=\"x\"}"); -1 when absent.
double metric(int httpPort, const std::string& sample) {
  std::istringstream text(httpGet(httpPort, "/metrics").raw);
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  }
  return -1;
}

// Polls GET /metrics until sample has value (10 s at most).
bool metricReaches(int httpPort, const std::string& sample, double value) {
  return waitUntil([&] { return metric(httpPort, sample) == value; }, 10s);
}

std::filesystem::path writeConfig(const TempDir& dir, const std::string& rpcKeys) {
  std::filesystem::path path = dir / "collector.toml";
  std::ofstream(path) << "[rpc]\n" << rpcKeys;
  return path;
}

// One RPC message, framed as on the wire.
std::string rpcMessage(const std::function<void(capnp::rpc::Message::Builder)>& fill) {
  capnp::MallocMessageBuilder message;
  fill(message.initRoot<capnp::rpc::Message>());
  auto words = capnp::messageToFlatArray(message);
  return std::string(words.asChars().begin(), words.asChars().end());
}

std::string bootstrapCall(std::uint32_t questionId) {
  return rpcMessage(
      [&](capnp::rpc::Message::Builder m) { m.initBootstrap().setQuestionId(questionId); });
}

// hello() on the answer to bootstrap question 0, as question 1.
std::string helloCall(const std::string& agentId) {
  return rpcMessage([&](capnp::rpc::Message::Builder m) {
    auto call = m.initCall();
    call.setQuestionId(1);
    call.initTarget().initPromisedAnswer().setQuestionId(0);
    call.setInterfaceId(capnp::typeId<schema::Collector>());
    call.setMethodId(0);
    auto params = call.initParams().getContent().initAs<schema::Collector::HelloParams>();
    params.initAgent().setAgentId(agentId);
    params.getAgent().setHost("web-1");
    params.setEpoch(1);
  });
}

bool sendAll(int fd, const std::string& bytes) {
  return send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// A raw connection that says hello and reads the answers; true when hello() was accepted.
bool sayHello(int fd, const std::string& agentId) {
  if (!sendAll(fd, bootstrapCall(0)) || !sendAll(fd, helloCall(agentId))) return false;
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  try {
    for (;;) {
      capnp::StreamFdMessageReader reader(fd);
      auto m = reader.getRoot<capnp::rpc::Message>();
      if (m.isReturn() && m.getReturn().getAnswerId() == 1) return m.getReturn().isResults();
    }
  } catch (const kj::Exception&) {
    return false;
  }
}

// Sends bootstrap calls without reading an answer until the collector ends the connection or
// `most` were sent; returns how many were sent.
int floodBootstrapsUnread(int fd, int most) {
  timeval timeout{10, 0};  // a collector that stops reading without closing fails the test
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::string batch;
  int sent = 0;
  for (std::uint32_t q = 2; sent < most; ++sent, ++q) {
    batch += bootstrapCall(q);
    if (batch.size() < 64 * 1024) continue;
    if (!sendAll(fd, batch)) return sent;
    batch.clear();
  }
  return sent;
}

TEST(RpcLimits, BigMessagesBeforeHelloAreRefusedFromTheirHeader) {
  TempDir dir;
  CollectorProcess collector({.dataDir = dir / "collector"});
  collector.start();
  ASSERT_TRUE(metricReaches(collector.httpPort(), "octolaunch_ingest_connections_open", 0));
  const pid_t pid = collector.pid();
  const std::int64_t idle = statusBytes(pid, "VmRSS");

  // 8 connections each announce one 60 MiB segment and send its body as fast as they can.
  constexpr std::uint32_t kWords = 60 * kMiB / 8;
  const std::vector<char> chunk(kMiB, 'x');
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) {
    int fd = connectTo(collector.rpcPort());
    ASSERT_GE(fd, 0);
    const std::uint32_t header[2] = {0, kWords};
    ASSERT_EQ(send(fd, header, sizeof header, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof header));
    fds.push_back(fd);
  }
  std::vector<std::int64_t> sent(fds.size(), 0);
  std::vector<bool> failed(fds.size(), false);
  waitUntil(
      [&] {
        bool busy = false;
        for (std::size_t i = 0; i < fds.size(); ++i) {
          if (failed[i] || sent[i] >= std::int64_t{kWords} * 8) continue;
          busy = true;
          ssize_t n = send(fds[i], chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) sent[i] += n;
          if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) failed[i] = true;
        }
        return !busy;
      },
      30s, 0ms);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    EXPECT_TRUE(failed[i] || closedByPeer(fds[i], 5s)) << "connection " << i << " kept open";
    EXPECT_LT(sent[i], 60 * kMiB) << "connection " << i << " could send its whole message";
    close(fds[i]);
  }
  const std::int64_t peak = statusBytes(pid, "VmHWM");
  std::printf("RSS idle %.1f MiB, peak during 8 x 60 MiB before hello %.1f MiB\n",
              static_cast<double>(idle) / kMiB, static_cast<double>(peak) / kMiB);
  if (kAddressSanitizer) {
    std::printf("memory bound not checked: AddressSanitizer's quarantine keeps freed memory\n");
  } else {
    EXPECT_LT(peak, idle + 64 * kMiB);
  }
  EXPECT_EQ(metric(collector.httpPort(), "octolaunch_ingest_connections_rejected_total"), 8);
  EXPECT_TRUE(collector.running());
}

TEST(RpcLimits, APeerThatNeverReadsItsAnswersIsCutAndLeavesNothingBehind) {
  TempDir dir;
  CollectorProcess collector({.dataDir = dir / "collector"});
  collector.start();
  const pid_t pid = collector.pid();
  const std::int64_t idle = statusBytes(pid, "VmRSS");

  // Before hello: the bootstrap calls use up the bytes a stranger may send.
  int stranger = connectTo(collector.rpcPort());
  ASSERT_GE(stranger, 0);
  EXPECT_LT(floodBootstrapsUnread(stranger, 2'000'000), 2'000'000)
      << "the collector kept reading a stranger's calls";
  EXPECT_TRUE(closedByPeer(stranger, 10s));
  close(stranger);
  EXPECT_TRUE(
      metricReaches(collector.httpPort(), "octolaunch_ingest_connections_rejected_total", 1));

  // After hello: the answers it does not read pile up to max_unsent_bytes, then it is cut.
  int agent = connectTo(collector.rpcPort());
  ASSERT_GE(agent, 0);
  ASSERT_TRUE(sayHello(agent, "agent-deaf"));
  EXPECT_LT(floodBootstrapsUnread(agent, 5'000'000), 5'000'000)
      << "the collector kept answering a peer that does not read";
  EXPECT_TRUE(closedByPeer(agent, 10s));
  close(agent);
  EXPECT_TRUE(metricReaches(collector.httpPort(),
                            "octolaunch_ingest_connections_cut_total{reason=\"unsent_backlog\"}",
                            1));
  EXPECT_TRUE(metricReaches(collector.httpPort(), "octolaunch_ingest_connections_open", 0));
  EXPECT_TRUE(collector.running());
  const std::int64_t peak = statusBytes(pid, "VmHWM");
  if (kAddressSanitizer) {
    std::printf("memory bounds not checked: AddressSanitizer's quarantine keeps freed memory\n");
    return;
  }
  // What the peers made the collector allocate goes back to the system once they are gone.
  EXPECT_TRUE(waitUntil([&] { return statusBytes(pid, "VmRSS") < idle + 16 * kMiB; }, 10s));
  const std::int64_t after = statusBytes(pid, "VmRSS");
  std::printf("RSS idle %.1f MiB, peak %.1f MiB, after the peers left %.1f MiB\n",
              static_cast<double>(idle) / kMiB, static_cast<double>(peak) / kMiB,
              static_cast<double>(after) / kMiB);
  EXPECT_LT(peak, idle + 64 * kMiB);
}

TEST(RpcLimits, ConnectionsBeyondTheCapAreRefusedAndAnAgentStillGetsIn) {
  TempDir dir;
  CollectorProcess collector(
      {.dataDir = dir / "collector",
       .config = writeConfig(dir, "max_connections = 20\nhello_timeout_ms = 1000\n").string()});
  collector.start();
  const int http = collector.httpPort();

  // 20 strangers fill the cap; 10 more are closed at once.
  std::vector<int> strangers;
  for (int i = 0; i < 20; ++i) strangers.push_back(connectTo(collector.rpcPort()));
  ASSERT_TRUE(metricReaches(http, "octolaunch_ingest_connections_open", 20));
  for (int i = 0; i < 10; ++i) {
    int fd = connectTo(collector.rpcPort());
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(closedByPeer(fd, 500ms)) << "connection over the cap not closed at once";
    close(fd);
  }
  EXPECT_EQ(metric(http, "octolaunch_ingest_connections_refused_total"), 10);

  // A real agent started now gets in once the strangers' hello deadline frees their slots.
  std::vector<std::string> hook = {binPath("octolaunch-agent"), "hook"};
  auto flags = agentFlags(dir / "spool", "agent-ok", "web-2", collector.rpcAddress());
  hook.insert(hook.end(), flags.begin(), flags.end());
  for (std::string a : {"--release", "r-ok", "--", "sh", "-c", "echo fine"}) hook.push_back(a);
  ASSERT_EQ(run(hook, 10s).exitCode, 0);
  std::vector<std::string> agent = {binPath("octolaunch-agent"), "run"};
  agent.insert(agent.end(), flags.begin(), flags.end());
  Process running({.argv = agent, .captureStdout = false});
  EXPECT_TRUE(waitUntil([&] { return allEvents(http, "release=r-ok").size() == 2; }, 30s));
  EXPECT_EQ(metric(http, "octolaunch_ingest_connections_cut_total{reason=\"hello_timeout\"}"), 20);
  for (int fd : strangers) close(fd);
}

TEST(RpcLimits, AConnectionThatNeverSaysHelloIsClosedAfterTheDeadline) {
  TempDir dir;
  CollectorProcess collector({.dataDir = dir / "collector",
                              .config = writeConfig(dir, "hello_timeout_ms = 1000\n").string()});
  collector.start();
  const auto opened = std::chrono::steady_clock::now();
  int fd = connectTo(collector.rpcPort());
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(closedByPeer(fd, 10s));
  const auto lasted = std::chrono::steady_clock::now() - opened;
  EXPECT_GE(lasted, 900ms);
  close(fd);
  EXPECT_EQ(metric(collector.httpPort(),
                   "octolaunch_ingest_connections_cut_total{reason=\"hello_timeout\"}"),
            1);
}

TEST(RpcLimits, AQuietAgentKeepsItsConnectionWhileASilentPeerIsCutWhenIdle) {
  TempDir dir;
  CollectorProcess collector({.dataDir = dir / "collector",
                              .config = writeConfig(dir, "idle_timeout_ms = 1500\n").string()});
  collector.start();
  const int http = collector.httpPort();
  // The agent pushes nothing after its first event: only its keepalive speaks for it.
  auto flags = agentFlags(dir / "spool", "agent-quiet", "web-3", collector.rpcAddress());
  std::vector<std::string> hook = {binPath("octolaunch-agent"), "hook"};
  hook.insert(hook.end(), flags.begin(), flags.end());
  for (std::string a : {"--release", "r-q", "--", "true"}) hook.push_back(a);
  ASSERT_EQ(run(hook, 10s).exitCode, 0);
  std::filesystem::path agentToml = dir / "agent.toml";
  std::ofstream(agentToml) << "[ship]\nkeepalive_ms = 300\n[sources]\nenabled = false\n";
  std::vector<std::string> agent = {binPath("octolaunch-agent"), "run"};
  agent.insert(agent.end(), flags.begin(), flags.end());
  agent[3] = agentToml.string();  // after "--config"
  Process running({.argv = agent, .captureStdout = false});
  ASSERT_TRUE(waitUntil([&] { return allEvents(http, "release=r-q").size() == 1; }, 20s));

  // A peer that says hello and then nothing: cut after the idle timeout...
  int silent = connectTo(collector.rpcPort());
  ASSERT_GE(silent, 0);
  ASSERT_TRUE(sayHello(silent, "agent-silent"));
  EXPECT_TRUE(
      metricReaches(http, "octolaunch_ingest_connections_cut_total{reason=\"idle_timeout\"}", 1));
  // ...while the quiet agent, connected before it, was never cut or reconnected.
  EXPECT_EQ(metric(http, "octolaunch_ingest_connections_accepted_total"), 2);
  EXPECT_EQ(metric(http, "octolaunch_ingest_connections_open"), 1);
  EXPECT_TRUE(closedByPeer(silent, 1s));
  close(silent);
}

}  // namespace
}  // namespace octolaunch::testing
