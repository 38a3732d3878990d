// Bad input on the RPC port: garbage bytes and a truncated Cap'n Proto message drop only that
// connection; the collector keeps serving other agents.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "tests/support/harness.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// True when the peer closes the connection (read returns 0 or an error) within the timeout.
bool closedByPeer(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return true;
    }
  }
  return false;
}

TEST(BadInput, GarbageAndTruncatedMessagesDropOnlyThatConnection) {
  TempDir dir;
  CollectorProcess collector({.dataDir = dir / "collector"});
  collector.start();

  // 1. Plain garbage: a segment table claiming an absurd number of segments.
  int garbage = connectTo(collector.rpcPort());
  ASSERT_GE(garbage, 0);
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n\xff\xff\xff\xff garbage garbage";
  ASSERT_EQ(write(garbage, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  EXPECT_TRUE(closedByPeer(garbage, 10s)) << "collector kept a garbage connection open";
  close(garbage);

  // 2. A truncated Cap'n Proto message: one segment of 1,000 words announced, 3 words sent, EOF.
  int truncated = connectTo(collector.rpcPort());
  ASSERT_GE(truncated, 0);
  std::uint32_t header[2] = {0, 1000};
  std::uint64_t words[3] = {0, 0, 0};
  ASSERT_EQ(write(truncated, header, sizeof header), static_cast<ssize_t>(sizeof header));
  ASSERT_EQ(write(truncated, words, sizeof words), static_cast<ssize_t>(sizeof words));
  shutdown(truncated, SHUT_WR);
  EXPECT_TRUE(closedByPeer(truncated, 10s));
  close(truncated);

  // 3. An oversized segment announcement (far past any legitimate batch).
  int huge = connectTo(collector.rpcPort());
  ASSERT_GE(huge, 0);
  std::uint32_t hugeHeader[2] = {0, 0x7fffffff};
  ASSERT_EQ(write(huge, hugeHeader, sizeof hugeHeader), static_cast<ssize_t>(sizeof hugeHeader));
  EXPECT_TRUE(closedByPeer(huge, 10s));
  close(huge);

  // The collector still serves: a real agent's hook events arrive.
  ASSERT_TRUE(collector.running());
  EXPECT_EQ(httpGet(collector.httpPort(), "/healthz").status, 200);
  Process agent({.argv =
                     [&] {
                       std::vector<std::string> a = {binPath("octolaunch-agent"), "run"};
                       auto f =
                           agentFlags(dir / "spool", "agent-ok", "web2", collector.rpcAddress());
                       a.insert(a.end(), f.begin(), f.end());
                       return a;
                     }(),
                 .captureStdout = false});
  std::vector<std::string> hook = {binPath("octolaunch-agent"), "hook"};
  auto f = agentFlags(dir / "spool", "agent-ok", "web2", collector.rpcAddress());
  hook.insert(hook.end(), f.begin(), f.end());
  for (std::string a : {"--release", "r-ok", "--", "sh", "-c", "echo fine"}) hook.push_back(a);
  EXPECT_EQ(run(hook, 10s).exitCode, 0);
  EXPECT_TRUE(
      waitUntil([&] { return allEvents(collector.httpPort(), "release=r-ok").size() == 2; }, 20s));
  EXPECT_TRUE(collector.running());
}

}  // namespace
}  // namespace octolaunch::testing
