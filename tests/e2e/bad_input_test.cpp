// Bad input on the RPC port: garbage bytes and a truncated Cap'n Proto message drop only that
// connection; the collector keeps serving other agents. Hostile HTTP requests (bytes that are not
// UTF-8 in the path, the query or the body) get a JSON error and the collector keeps serving.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "tests/support/harness.h"
#include "tests/support/raw_http.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

std::string postRequest(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(BadInput, HostileHttpRequestsGetJsonErrorsAndTheCollectorLivesOn) {
  TempDir dir;
  CollectorProcess collector({.dataDir = dir / "collector"});
  collector.start();

  struct Case {
    std::string request;
    std::string error;  // of the 400 answer
  };
  const Case cases[] = {
      {getRequest("/%FF"), "path: not valid UTF-8"},
      {getRequest("/api/v1/events?host=%FF"), "host: not valid UTF-8"},
      {getRequest("/api/v1/events?%FF=web-1"), "query: a parameter name is not valid UTF-8"},
      {getRequest("/api/v1/releases/%C0%AF"), "path: not valid UTF-8"},            // overlong '/'
      {getRequest("/api/v1/releases/%ED%A0%80/causes"), "path: not valid UTF-8"},  // a surrogate
      {getRequest("/api/v1/drift?service=%F4%90%80%80"), "service: not valid UTF-8"},  // >U+10FFFF
      {getRequest("/\xff\xfe/raw"), "path: not valid UTF-8"},  // bytes sent unescaped
      {getRequest("/api/v1/events?kind=%00"), "kind: contains a NUL byte"},
      {getRequest("/api/v1/events?kind=%E2%82"), "kind: not valid UTF-8"},  // truncated
      {postRequest("/api/v1/releases/%FF/stages", R"({"name":"build","status":"ok"})"),
       "path: not valid UTF-8"},
      {postRequest("/api/v1/releases", "{\"id\":\"r1\",\"service\":\"\xff\"}"),
       "body: expected a JSON object"},
      {postRequest("/api/v1/releases", R"({"id":"r1","service":"\ud800"})"),
       "body: expected a JSON object"},
      {postRequest("/api/v1/releases", R"({"id":"r1","service":"api","commit":"a\u0000b"})"),
       "commit: at most 2048 bytes, no NUL"},
  };
  for (const Case& c : cases) {
    RawReply r = parseReply(exchange(collector.httpPort(), c.request, 10s));
    ASSERT_TRUE(collector.running()) << "the collector died on " << c.request;
    EXPECT_EQ(r.status, 400) << c.request;
    EXPECT_EQ(r.contentType, "application/json") << c.request;
    EXPECT_EQ(r.body, nlohmann::json({{"error", c.error}})) << c.request;
  }
  // Body framing kj-http cannot use is the client's error: 400 with kj's reason, not 500.
  const std::string badFraming[] = {
      "POST /api/v1/releases HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Length: 12A\r\n\r\n{\"id\":\"r1\"}",
      "POST /api/v1/releases HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Transfer-Encoding: gzip\r\n\r\n{\"id\":\"r1\"}",
  };
  for (const std::string& request : badFraming) {
    RawReply r = parseReply(exchange(collector.httpPort(), request, 10s));
    ASSERT_TRUE(collector.running()) << "the collector died on " << request;
    EXPECT_EQ(r.status, 400) << request;
    EXPECT_EQ(r.contentType, "application/json") << request;
    ASSERT_TRUE(r.body.is_object() && r.body["error"].is_string()) << request;
    EXPECT_EQ(r.body["error"].get<std::string>().rfind("request: ", 0), 0u) << r.body;
  }
  // Well-formed UTF-8 beyond ASCII is still accepted.
  HttpResult accented = httpGet(collector.httpPort(), "/api/v1/events?host=caf%C3%A9");
  EXPECT_EQ(accented.status, 200) << accented.raw;
  EXPECT_EQ(accented.body["events"], nlohmann::json::array());
  EXPECT_EQ(httpGet(collector.httpPort(), "/healthz").status, 200);
  EXPECT_TRUE(collector.running());
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
