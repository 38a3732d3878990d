// The real HTTP server on port 0 over a temp LMDB store, driven by a real HTTP client; and the
// `octolaunch` CLI against it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "collector/cli/cli_app.h"
#include "collector/cli/exit_code.h"
#include "collector/http/http_server.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::http {
namespace {

using nlohmann::json;
using testing::BatchMessage;
using testing::EventSpec;

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), std::size_t{64} << 20));
    events_ = std::make_unique<LmdbEventStore>(*env_, clock_);
    releases_ = std::make_unique<LmdbReleaseStore>(*env_);
    api_ = std::make_unique<ApiContext>(ApiContext{*events_, *releases_, writer_, clock_, {}});
    api_->metrics.push_back([] { return std::string("octolaunch_test_metric 7\n"); });
    server_ = std::make_unique<HttpServer>(*api_, options());
    port_ = server_->bind("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  virtual HttpOptions options() const { return HttpOptions{.threads = 2, .maxBodyBytes = 4096}; }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }

  struct Reply {
    int status;
    json body;
  };
  Reply get(const std::string& path) {
    auto res = client_->Get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return {0, nullptr};
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
    return {res->status, json::parse(res->body)};
  }
  Reply post(const std::string& path, const std::string& body) {
    auto res = client_->Post(path, body, "application/json");
    EXPECT_TRUE(res);
    if (!res) return {0, nullptr};
    return {res->status, json::parse(res->body)};
  }
  // host: the session's (the events are stored under it).
  void store(std::string agentId, std::uint64_t epoch, const std::vector<EventSpec>& specs,
             std::string host = "web-1") {
    BatchMessage m(std::move(agentId), epoch, specs, std::move(host));
    IngestBatch b = m.batch();
    events_->commitBatches({&b, 1});
  }
  int cli(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
    args.insert(args.begin(), {"octolaunch", "--url", "http://127.0.0.1:" + std::to_string(port_)});
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    int rc = cli::runCli(static_cast<int>(argv.size()), argv.data(), o, e);
    if (out) *out = o.str();
    if (err) *err = e.str();
    return rc;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  InlineWriteSerializer writer_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> events_;
  std::unique_ptr<LmdbReleaseStore> releases_;
  std::unique_ptr<ApiContext> api_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpApiTest, HealthAndMetrics) {
  Reply r = get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json({{"status", "ok"}}));
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("octolaunch_test_metric 7"), std::string::npos);
}

TEST_F(HttpApiTest, BadParametersAndBytesThatAreNotUtf8Are400NamingWhat) {
  const std::pair<std::string, std::string> cases[] = {
      {"/api/v1/events?limit=0", "limit: expected an integer from 1 to 10000, got \"0\""},
      {"/api/v1/events?limit=10001", "limit: expected an integer from 1 to 10000, got \"10001\""},
      {"/api/v1/events?limit=ten", "limit: expected an integer from 1 to 10000, got \"ten\""},
      {"/api/v1/events?since=yesterday",
       "since: expected RFC 3339 time or integer nanoseconds, got \"yesterday\""},
      {"/api/v1/events?until=2026-13-01T00:00:00Z",
       "until: expected RFC 3339 time or integer nanoseconds, got \"2026-13-01T00:00:00Z\""},
      {"/api/v1/events?kind=hook.outptu", "kind: unknown kind \"hook.outptu\""},
      {"/api/v1/events?kind=hook.block",
       "kind: hook.block is listed line by line: ask for hook.output"},
      {"/api/v1/events?cursor=deadbeef", "cursor: malformed cursor"},
      {"/api/v1/events?relase=r1", "unknown parameter 'relase'"},
      {"/api/v1/events?host=a&host=b", "host: given more than once"},
      {"/%FF", "path: not valid UTF-8"},
      {"/api/v1/releases/%FF", "path: not valid UTF-8"},
      {"/api/v1/events?host=%FF", "host: not valid UTF-8"},
      {"/api/v1/events?%C0%80=1", "query: a parameter name is not valid UTF-8"},
      {"/metrics?x=%ED%BF%BF", "x: not valid UTF-8"},
  };
  for (const auto& [path, message] : cases) {
    Reply r = get(path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body, json({{"error", message}})) << path;
  }
  Reply missing = get("/api/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, json({{"error", "no route for GET /api/v1/nothing"}}));
}

TEST_F(HttpApiTest, StoredBytesThatAreNotUtf8AreAnsweredAsReplacementCharacters) {
  // An event line that is not UTF-8 (from an agent) is answered with U+FFFD in place of the byte.
  store("agent-a", 1, {{.seq = 1, .timeNs = 5, .host = "web-1", .line = "bad \xff byte"}});
  Reply events = get("/api/v1/events");
  ASSERT_EQ(events.status, 200);
  EXPECT_EQ(events.body["events"][0]["data"]["line"], "bad \xEF\xBF\xBD byte");
}

TEST_F(HttpApiTest, PaginationReturnsEveryEventExactlyOnceOldestFirst) {
  // 3 agents, interleaved times, 1,234 events of r1 plus noise of r2.
  std::set<std::pair<std::string, std::uint64_t>> expected;
  for (int a = 0; a < 3; ++a) {
    std::vector<EventSpec> specs;
    for (std::uint64_t s = 1; s <= 450; ++s) {
      const bool r1 = !(a == 2 && s > 334);
      specs.push_back({.seq = s,
                       .timeNs = static_cast<std::int64_t>(s * 10 + a) / 7,  // many equal times
                       .host = "web-" + std::to_string(a),
                       .release = r1 ? "r1" : "r2"});
      if (r1) expected.insert({"agent-" + std::to_string(a), s});
    }
    store("agent-" + std::to_string(a), 1, specs);
  }
  ASSERT_EQ(expected.size(), 1234u);
  std::set<std::pair<std::string, std::uint64_t>> seen;
  std::int64_t lastTime = INT64_MIN;
  std::string path = "/api/v1/events?release=r1&limit=100";
  int pages = 0;
  for (;;) {
    Reply r = get(path);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    ++pages;
    for (const json& e : r.body["events"]) {
      EXPECT_EQ(e["release"], "r1");
      EXPECT_GE(e["time_ns"].get<std::int64_t>(), lastTime);
      lastTime = e["time_ns"].get<std::int64_t>();
      EXPECT_TRUE(
          seen.insert({e["agent_id"].get<std::string>(), e["seq"].get<std::uint64_t>()}).second)
          << "returned twice: " << e.dump();
    }
    if (r.body["next_cursor"].is_null()) break;
    ASSERT_EQ(r.body["events"].size(), 100u);
    path = "/api/v1/events?release=r1&limit=100&cursor=" + r.body["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(pages, 13);
  EXPECT_EQ(seen, expected);
}

TEST_F(HttpApiTest, EventsNewestFirstOnAsking) {
  store("agent-a", 1,
        {{.seq = 1, .timeNs = 10}, {.seq = 2, .timeNs = 30}, {.seq = 3, .timeNs = 20}});
  Reply r = get("/api/v1/events?host=web-1&order=newest");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  std::vector<std::uint64_t> seqs;
  for (const json& e : r.body["events"]) seqs.push_back(e["seq"].get<std::uint64_t>());
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{2, 3, 1}));
  r = get("/api/v1/events?order=sideways");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "order: expected oldest or newest, got \"sideways\"");
}

// The shell and every asset it names, with the UI's headers; pages are the same shell.
void expectWebUi(httplib::Client& client) {
  const std::string csp =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  std::string shell;
  for (const char* page : {"/", "/releases/r42?host=web-3", "/hosts/web-3", "/releases/a%20b"}) {
    auto res = client.Get(page);
    ASSERT_TRUE(res) << page;
    EXPECT_EQ(res->status, 200) << page;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8") << page;
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache") << page;
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), csp) << page;
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff") << page;
    EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer") << page;
    if (shell.empty()) shell = res->body;
    EXPECT_EQ(res->body, shell) << page;
  }
  EXPECT_EQ(shell.find("@asset:"), std::string::npos) << "a placeholder left in the shell";
  EXPECT_EQ(shell.find("<script>"), std::string::npos) << "an inline script, which the CSP refuses";
  EXPECT_EQ(shell.find("style="), std::string::npos) << "an inline style, which the CSP refuses";
  const std::regex asset(R"((/assets/[a-z]+\.[0-9a-f]{16}\.(js|css)))");
  int assets = 0;
  for (std::sregex_iterator it(shell.begin(), shell.end(), asset), end; it != end; ++it, ++assets) {
    const std::string path = (*it)[1];
    auto res = client.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"),
              (*it)[2] == "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8")
        << path;
    EXPECT_EQ(res->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), csp) << path;
    EXPECT_FALSE(res->body.empty()) << path;
  }
  EXPECT_GE(assets, 2) << shell;
  auto missing = client.Get("/assets/app.0123456789abcdef.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("Cache-Control"), "no-store");
}

TEST_F(HttpApiTest, WebUiShellAndHashedAssetsWithStrictHeaders) { expectWebUi(*client_); }

TEST_F(HttpApiTest, EventsAreFilteredAndShapedAsDesigned) {
  store("agent-a", 0x1234,
        {{.seq = 1,
          .timeNs = 1'700'000'000'000'000'000,
          .host = "web-1",
          .release = "r42",
          .line = "migrating"},
         {.seq = 2,
          .timeNs = 1'700'000'001'000'000'000,
          .host = "web-1",
          .release = "r42",
          .kind = "hook.exit"},
         {.seq = 3, .timeNs = 1'700'000'002'000'000'000, .host = "web-1", .release = "r43"}});
  Reply r = get("/api/v1/events?release=r42&kind=hook.output");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["events"].size(), 1u);
  const json& e = r.body["events"][0];
  EXPECT_EQ(e["agent_id"], "agent-a");
  EXPECT_EQ(e["epoch"], "0000000000001234");
  EXPECT_EQ(e["seq"], 1);
  EXPECT_EQ(e["host"], "web-1");
  EXPECT_EQ(e["time"], "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(e["time_ns"], 1'700'000'000'000'000'000);
  EXPECT_EQ(e["received_ns"], clock_.now);
  EXPECT_EQ(e["kind"], "hook.output");
  EXPECT_EQ(e["data"]["line"], "migrating");
  EXPECT_EQ(e["data"]["stream"], "stdout");
  EXPECT_TRUE(r.body["next_cursor"].is_null());

  EXPECT_EQ(get("/api/v1/events?since=2023-11-14T22:13:21Z").body["events"].size(), 2u);
  EXPECT_EQ(get("/api/v1/events?until=1700000001000000000").body["events"].size(), 1u);
  EXPECT_EQ(get("/api/v1/events?kind=hook.exit").body["events"][0]["data"]["exit_code"], 3);
  EXPECT_EQ(get("/api/v1/events?host=web-9").body["events"].size(), 0u);

  Reply hosts = get("/api/v1/hosts");
  ASSERT_EQ(hosts.body["hosts"].size(), 1u);
  EXPECT_EQ(hosts.body["hosts"][0], json({{"agent_id", "agent-a"},
                                          {"host", "web-1"},
                                          {"last_seen", formatRfc3339Ns(clock_.now)},
                                          {"epoch", "0000000000001234"},
                                          {"last_seq", 3},
                                          {"events_stored", 3},
                                          {"clock_offset_ms", nullptr},
                                          {"clock_uncertainty_ms", nullptr},
                                          {"clock_sampled", nullptr}}));

  // An agent 3 s behind the collector, measured over a 40 ms round trip: +-20 ms + the 50 ms floor.
  BatchMessage m("agent-a", 0x1234, {{.seq = 4, .timeNs = 1'700'000'003'000'000'000}});
  IngestBatch b = m.batch();
  b.clock = ClockSample{3'000'000'000, 40'000'000, 0};
  events_->commitBatches({&b, 1});
  json host = get("/api/v1/hosts").body["hosts"][0];
  EXPECT_EQ(host["clock_offset_ms"], 3000.0);
  EXPECT_EQ(host["clock_uncertainty_ms"], 70.0);
  EXPECT_EQ(host["clock_sampled"], formatRfc3339Ns(clock_.now));
}

TEST_F(HttpApiTest, Releases) {
  EXPECT_EQ(post("/api/v1/releases", "{not json").status, 400);
  EXPECT_EQ(post("/api/v1/releases", "[1]").body,
            json({{"error", "body: expected a JSON object"}}));
  EXPECT_EQ(post("/api/v1/releases", R"({"id":"r1"})").body,
            json({{"error", "service: required, a non-empty string"}}));
  Reply created = post("/api/v1/releases", R"({"id":"r1","service":"api","version":"1.0"})");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body["version"], "1.0");
  Reply again = post("/api/v1/releases", R"({"id":"r1","service":"api","commit":"abc"})");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["commit"], "abc");
  EXPECT_EQ(again.body["version"], "1.0");
  EXPECT_EQ(post("/api/v1/releases", R"({"id":"r1","service":"web"})").status, 409);

  Reply one = get("/api/v1/releases/r1");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body["service"], "api");
  Reply none = get("/api/v1/releases/r9");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, json({{"error", "release r9 not found"}}));
  Reply list = get("/api/v1/releases");
  ASSERT_EQ(list.body["releases"].size(), 1u);
  EXPECT_EQ(list.body["releases"][0]["id"], "r1");

  auto big = client_->Post("/api/v1/releases", std::string(10'000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(json::parse(big->body), json({{"error", "request body too large"}}));
}

TEST_F(HttpApiTest, CliCommandsAndExitCodes) {
  std::string out, err;
  EXPECT_EQ(cli({"release", "create", "--id", "r7", "--service", "api", "--ci-job-url",
                 "https://ci/1", "--ci-job-url", "https://ci/2"},
                &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "registered release r7 (api)\n");
  EXPECT_EQ(cli({"--json", "release", "show", "r7"}, &out), 0);
  EXPECT_EQ(json::parse(out)["ci_job_urls"], json({"https://ci/1", "https://ci/2"}));
  EXPECT_EQ(cli({"release", "show", "nope"}, &out, &err),
            static_cast<int>(cli::ExitCode::notFound));
  EXPECT_EQ(err, "octolaunch: release nope not found\n");
  EXPECT_EQ(cli({"releases"}, &out), 0);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "ID  SERVICE  VERSION  STATUS   HOSTS FAILED  REGISTERED");
  EXPECT_NE(out.find("r7  api               pending  0/0"), std::string::npos) << out;

  store("agent-a", 1, {{.seq = 1, .timeNs = 5, .host = "web-1", .release = "r7", .line = "hello"}});
  store("agent-b", 1, {{.seq = 1, .timeNs = 6, .host = "web-22", .release = "r7", .line = "world"}},
        "web-22");
  EXPECT_EQ(cli({"events", "--release", "r7"}, &out), 0);
  std::istringstream lines(out);
  std::string header, row1, row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_EQ(header.find("HOST"), row1.find("web-1"));  // columns line up
  EXPECT_EQ(row1.find("web-1"), row2.find("web-22"));
  EXPECT_NE(row2.find("stdout: world"), std::string::npos);
  EXPECT_EQ(cli({"events", "--json", "--limit", "1"}, &out), 0);
  json page = json::parse(out);
  EXPECT_EQ(page["events"].size(), 1u);
  EXPECT_TRUE(page["next_cursor"].is_string());

  EXPECT_EQ(cli({"events", "--kind", "nope"}, &out, &err), 2);
  EXPECT_EQ(err, "octolaunch: kind: unknown kind \"nope\"\n");
  EXPECT_EQ(cli({"events", "--limit", "x"}, &out, &err), 2);
  EXPECT_EQ(cli({"frobnicate"}, &out, &err), 2);
  EXPECT_EQ(cli({"release", "create", "--id", "r8"}, &out, &err), 2);  // --service missing
}

class HttpApiTokenTest : public HttpApiTest {
 protected:
  HttpOptions options() const override {
    HttpOptions o = HttpApiTest::options();
    o.tokens = {{"reader-0123456789", Scope::read}, {"writer-0123456789", Scope::write}};
    return o;
  }
};

TEST_F(HttpApiTokenTest, CliSendsItsTokenAndExplains401And403) {
  std::string out, err;
  EXPECT_EQ(cli({"releases"}, &out, &err), static_cast<int>(cli::ExitCode::notAuthorised));
  EXPECT_NE(err.find("pass --token or set OCTOLAUNCH_TOKEN"), std::string::npos) << err;
  EXPECT_EQ(cli({"--token", "reader-0123456789", "releases"}, &out, &err), 0) << err;
  ::setenv("OCTOLAUNCH_TOKEN", "reader-0123456789", 1);
  EXPECT_EQ(cli({"releases"}, &out, &err), 0) << err;
  ::unsetenv("OCTOLAUNCH_TOKEN");
  EXPECT_EQ(
      cli({"--token", "reader-0123456789", "release", "create", "--id", "r1", "--service", "api"},
          &out, &err),
      static_cast<int>(cli::ExitCode::notAuthorised));
  EXPECT_NE(err.find("needs the write scope"), std::string::npos) << err;
  EXPECT_NE(err.find("scope does not allow"), std::string::npos) << err;
  EXPECT_EQ(
      cli({"--token", "writer-0123456789", "release", "create", "--id", "r1", "--service", "api"},
          &out, &err),
      0)
      << err;
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(HttpApiTokenTest, WebUiIsOpenWhileItsApiCallsNeedTheToken) {
  expectWebUi(*client_);
  auto res = client_->Get("/api/v1/releases");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
}

TEST(Cli, UnreachableCollectorIsExit3NamingTheAddress) {
  // A port that was just free: bind, note it, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const char* argv[] = {"octolaunch", "--url", url.c_str(), "releases"};
  std::ostringstream out, err;
  EXPECT_EQ(cli::runCli(4, argv, out, err), 3);
  EXPECT_NE(err.str().find(url), std::string::npos) << err.str();
}

TEST(Cli, VersionAndHelp) {
  const char* version[] = {"octolaunch", "--version"};
  std::ostringstream out, err;
  EXPECT_EQ(cli::runCli(2, version, out, err), 0);
  EXPECT_EQ(out.str().rfind("octolaunch ", 0), 0u);
  const char* help[] = {"octolaunch", "--help"};
  std::ostringstream hout, herr;
  EXPECT_EQ(cli::runCli(2, help, hout, herr), 0);
  EXPECT_NE(hout.str().find("events"), std::string::npos);
  EXPECT_NE(hout.str().find("release"), std::string::npos);
}

}  // namespace
}  // namespace octolaunch::http
