// The HTTP API's bearer tokens on the real collector: each scope reaches what it should and no
// more, /healthz stays open, and a collector without tokens refuses to listen beyond loopback
// unless allow_open says so.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/api_tokens.h"
#include "tests/support/harness.h"
#include "tests/support/process.h"
#include "tests/support/raw_http.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

std::string request(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = "") {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!token.empty()) text += "Authorization: Bearer " + token + "\r\n";
  if (method == "POST") {
    text +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return text + "\r\n" + body;
}

std::string release(const std::string& id) {
  return R"({"id":")" + id + R"(","service":"api","ci_run_url":"https://ci.example/run/1"})";
}

struct TokenCollector {
  TokenCollector() {
    writeTokenConfig(dir / "collector.toml");
    collector.start();
  }
  RawReply send(const std::string& text) {
    return parseReply(exchange(collector.httpPort(), text, 10s));
  }
  TempDir dir;
  CollectorProcess collector{
      {.dataDir = dir / "collector", .config = (dir / "collector.toml").string()}};
};

TEST(HttpAuth, EachScopeReachesWhatItShould) {
  TokenCollector c;
  EXPECT_EQ(c.send(request("GET", "/healthz", "")).status, 200);

  RawReply anonymous = c.send(request("POST", "/api/v1/releases", "", release("r1")));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.contentType, "application/json");
  EXPECT_TRUE(anonymous.body.contains("error"));
  const std::string raw =
      exchange(c.collector.httpPort(), request("GET", "/api/v1/releases", ""), 10s);
  EXPECT_NE(raw.find("WWW-Authenticate: Bearer"), std::string::npos) << raw;
  EXPECT_EQ(c.send(request("GET", "/metrics", "")).status, 401);

  EXPECT_EQ(
      c.send(request("POST", "/api/v1/releases", "wrong-token-0123456789", release("r1"))).status,
      401);

  RawReply reader = c.send(request("POST", "/api/v1/releases", kReadToken, release("r1")));
  EXPECT_EQ(reader.status, 403);
  EXPECT_NE(reader.body.value("error", "").find("write scope"), std::string::npos)
      << reader.body.dump();
  EXPECT_EQ(c.send(request("GET", "/api/v1/releases", kReadToken)).status, 200);
  EXPECT_EQ(c.send(request("GET", "/metrics", kReadToken)).status, 200);

  EXPECT_EQ(c.send(request("POST", "/api/v1/releases", kWriteToken, release("r1"))).status, 201);
  EXPECT_EQ(c.send(request("POST", "/api/v1/releases/r1/stages", kWriteToken,
                           R"({"name":"build","status":"ok"})"))
                .status,
            200);
  EXPECT_EQ(c.send(request("POST", "/api/v1/releases", kAdminToken, release("r2"))).status, 201);

  RawReply list = c.send(request("GET", "/api/v1/releases", kReadToken));
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.dump().find("\"r2\""), std::string::npos) << list.body.dump();
  EXPECT_EQ(list.body.dump().find("wrong"), std::string::npos);
}

TEST(HttpAuth, ReleaseUrlsMustBeHttp) {
  TokenCollector c;
  for (const std::string url : {"javascript:alert(1)", "ftp://ci.example/x", "https://ci/ x"}) {
    const std::string body =
        R"({"id":"r1","service":"api","ci_run_url":)" + nlohmann::json(url).dump() + "}";
    RawReply r = c.send(request("POST", "/api/v1/releases", kWriteToken, body));
    EXPECT_EQ(r.status, 400) << url;
    EXPECT_NE(r.body.value("error", "").find("ci_run_url"), std::string::npos) << r.body.dump();
  }
  RawReply job = c.send(request("POST", "/api/v1/releases", kWriteToken,
                                R"({"id":"r1","service":"api","ci_job_urls":["ftp://x/y"]})"));
  EXPECT_EQ(job.status, 400);
  EXPECT_NE(job.body.value("error", "").find("ci_job_urls"), std::string::npos) << job.body.dump();
}

TEST(HttpAuth, NoTokensMeansLoopbackOnly) {
  TempDir dir;
  const std::string empty = (dir / "empty.toml").string();
  std::ofstream(empty) << "";
  RunResult refused =
      run({binPath("octolaunch-collector"), "--config", empty, "--data-dir",
           (dir / "data").string(), "--rpc-listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0"},
          30s);
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.err.find("not a loopback address"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("allow_open"), std::string::npos) << refused.err;

  const std::string open = (dir / "open.toml").string();
  std::ofstream(open) << "[http]\nallow_open = true\nplaintext = true\n";  // no TLS either
  Process collector({.argv = {binPath("octolaunch-collector"), "--config", open, "--data-dir",
                              (dir / "data").string(), "--rpc-listen", "127.0.0.1:0",
                              "--http-listen", "0.0.0.0:0"},
                     .captureStderr = true});
  auto line = collector.waitForLine("http listening on ", 20s);
  ASSERT_TRUE(line) << collector.stderrText();
  const int port = std::stoi(line->substr(line->rfind(':') + 1));
  EXPECT_EQ(parseReply(exchange(port, request("GET", "/healthz", ""), 10s)).status, 200);
}

}  // namespace
}  // namespace octolaunch::testing
