// The collector's HTTP limits against hostile clients, measured from outside on the real binary:
// an endless chunked upload, a huge Content-Length, slow bodies, idle and slow connections held
// by the thousand while a legitimate client still gets /healthz.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/support/harness.h"
#include "tests/support/raw_http.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMiB = std::size_t{1} << 20;

// A collector with [http] settings (TOML lines) on top of the defaults.
struct LimitedCollector {
  explicit LimitedCollector(const std::string& httpSection) {
    std::ofstream(dir / "collector.toml") << "[http]\n" << httpSection;
    collector.start();
  }
  TempDir dir;
  CollectorProcess collector{
      {.dataDir = dir / "collector", .config = (dir / "collector.toml").string()}};
};

// Sends up to total bytes of a chunked POST body while watching for the answer. Returns the
// response (empty if none came) and sets sent to the body bytes written.
std::string uploadChunked(int port, std::size_t total, std::size_t& sent) {
  int fd = connectTo(port);
  if (fd < 0) return "";
  const std::string head =
      "POST /api/v1/releases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  if (write(fd, head.data(), head.size()) != static_cast<ssize_t>(head.size())) return "";
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  std::size_t offset = 0;  // into chunk
  std::string response;
  sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < total ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 100) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      response.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    ssize_t n = send(fd, chunk.data() + offset, chunk.size() - offset, MSG_NOSIGNAL);
    if (n < 0) continue;  // EAGAIN; or reset, then the read above ends it
    offset += static_cast<std::size_t>(n);
    if (offset == chunk.size()) {
      offset = 0;
      sent += 0x10000;
    }
  }
  close(fd);
  return response;
}

TEST(HttpLimits, ChunkedUploadPastTheLimitIs413WithMemoryBounded) {
  LimitedCollector c("");  // max_body_bytes 1 MiB
  ASSERT_EQ(parseReply(exchange(c.collector.httpPort(), getRequest("/healthz"), 5s)).status, 200);
  const std::size_t before = peakRssKiB(c.collector.pid());
  ASSERT_GT(before, 0u);

  std::size_t sent = 0;
  const auto start = std::chrono::steady_clock::now();
  RawReply r = parseReply(uploadChunked(c.collector.httpPort(), 400 * kMiB, sent));
  std::cout << "chunked upload: answered after " << sent / 1024 << " KiB sent, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms\n";
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.contentType, "application/json");
  EXPECT_EQ(r.body, nlohmann::json({{"error", "request body too large"}}));
  EXPECT_LT(sent, 64 * kMiB) << "the collector kept reading past the limit";
  // The bound: the 1 MiB limit plus read buffers; far below the 400 MiB offered.
  const std::size_t after = peakRssKiB(c.collector.pid());
  std::cout << "collector peak RSS: " << before << " KiB before, " << after << " KiB after\n";
  EXPECT_LT(after, before + 16 * 1024) << "peak RSS grew from " << before << " KiB to " << after;
  EXPECT_EQ(parseReply(exchange(c.collector.httpPort(), getRequest("/healthz"), 5s)).status, 200);
}

TEST(HttpLimits, OverLongContentLengthIs413BeforeTheBodyIsSent) {
  LimitedCollector c("");
  int fd = connectTo(c.collector.httpPort());
  ASSERT_GE(fd, 0);
  const std::string head =
      "POST /api/v1/releases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000000\r\n\r\n";
  ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  // Only the headers were sent: the answer comes anyway, and then the connection closes.
  const std::string response = readUntilClosed(fd, 5s);
  close(fd);
  RawReply r = parseReply(response);
  EXPECT_EQ(r.status, 413) << response;
  EXPECT_EQ(r.body, nlohmann::json({{"error", "request body too large"}}));
}

TEST(HttpLimits, SlowHeadersIdleConnectionsAndPausingBodiesAreCutOff) {
  LimitedCollector c("header_timeout_ms = 1000\nread_timeout_ms = 1000\n");
  const int port = c.collector.httpPort();
  int idle = connectTo(port);
  int dribbling = connectTo(port);
  ASSERT_GE(idle, 0);
  ASSERT_GE(dribbling, 0);
  ASSERT_EQ(write(dribbling, "GET /hea", 8), 8);
  EXPECT_TRUE(closedByPeer(idle, 5s));
  EXPECT_TRUE(closedByPeer(dribbling, 5s));
  close(idle);
  close(dribbling);

  // Half a body, then a pause longer than read_timeout_ms: 408 as JSON.
  const std::string pausing =
      "POST /api/v1/releases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 20\r\n\r\n{\"id\":\"r1\"";
  RawReply r = parseReply(exchange(port, pausing, 5s));
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.body, nlohmann::json({{"error", "request body too slow"}}));
  EXPECT_EQ(parseReply(exchange(port, getRequest("/healthz"), 5s)).status, 200);
}

TEST(HttpLimits, HealthzIsAnsweredWhileThousandsOfIdleAndSlowClientsAreHeld) {
  ASSERT_TRUE(raiseOpenFileLimit(4096)) << "cannot raise RLIMIT_NOFILE to 4096";
  // Defaults, but a header timeout long enough that no stalled client is let go during the test.
  LimitedCollector c("header_timeout_ms = 120000\n");
  const int port = c.collector.httpPort();
  StalledClients stalled(port, 2000, 50);
  // Every stalled connection has reached the collector: one more connection is served after them.
  EXPECT_EQ(parseReply(exchange(port, getRequest("/healthz"), 5s)).status, 200);
  const auto start = std::chrono::steady_clock::now();
  RawReply r = parseReply(exchange(port, getRequest("/healthz"), 5s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, nlohmann::json({{"status", "ok"}}));
  EXPECT_EQ(stalled.closedByServer(), 0u) << "the load was not held";
  std::cout << "GET /healthz beside 2,000 idle and 50 slow clients: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_TRUE(c.collector.running());
}

}  // namespace
}  // namespace octolaunch::testing
