// Raw bytes from an HTTP client -> the collector's kj-http service: KJ's request parser with the
// server settings HttpServer uses, ApiHttpService (body limits, errors as JSON), the HandlerPool
// and every route of the Router, with bearer tokens, over a store seeded with events of two
// agents and one registered release, so the routes have something to find.
//
// Input: the bytes a client sends on one connection (any number of requests), through an
// in-memory pipe; the client's write side is closed after them. Besides "no crash", each answer
// must be HTTP/1.1 and never 500 (a route that throws on what a client sent is a bug: bad input
// gets a 4xx).
#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "collector/http/api_context.h"
#include "collector/http/api_http_service.h"
#include "collector/http/handler_pool.h"
#include "collector/http/router.h"
#include "collector/http/routes/routes.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::http {
namespace {

using testing::BatchMessage;
using testing::EventSpec;

// The tokens the seeds carry: an admin one and a read-only one (so 403 is reachable too).
const std::vector<HttpToken> kTokens{{"fuzz-admin-token", Scope::admin},
                                     {"fuzz-read-token", Scope::read}};

// Everything one collector's HTTP side holds, built once per process; the store is seeded.
struct Service {
  Service() {
    std::vector<EventSpec> specs;
    for (std::uint64_t seq = 1; seq <= 6; ++seq) {
      specs.push_back({.seq = seq,
                       .timeNs = clock.now - static_cast<std::int64_t>(7 - seq) * 1'000'000'000,
                       .release = "r42",
                       .kind = seq == 1   ? "deploy.start"
                               : seq == 6 ? "hook.exit"
                                          : "hook.output"});
    }
    BatchMessage web("agent-web-1", 1, specs, "web-1");
    BatchMessage db("agent-db-1", 7, {{.seq = 1, .timeNs = clock.now, .kind = "oom.kill"}}, "db-1");
    IngestBatch batches[] = {web.batch(), db.batch()};
    events.commitBatches(batches);
    registerAllRoutes(router, api);
    router.requireTokens(kTokens);
    settings.headerTimeout = options.headerTimeoutMs * kj::MILLISECONDS;
    settings.pipelineTimeout = options.keepAliveTimeoutMs * kj::MILLISECONDS;
    settings.errorHandler = service;
  }

  testing::TempDir dir;
  testing::FakeClock clock;
  lmdb::Env env = openCollectorEnv(dir.path(), std::size_t{1} << 30);
  LmdbEventStore events{env, clock};
  LmdbReleaseStore releases{env};
  // Handlers write on the pool's one thread: the only writer.
  InlineWriteSerializer writer;
  ApiContext api{events, releases, writer, clock, {}};
  Router router;
  HttpOptions options{.threads = 1, .maxBodyBytes = 64 * 1024, .tokens = kTokens};
  HttpCounters counters;
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::HttpHeaderTable headerTable;
  HandlerPool pool{router, options.threads};
  ApiHttpService service{pool, options, io.provider->getTimer(), headerTable, counters};
  kj::HttpServerSettings settings;
};

// Sends `request` on a new connection, closes the client's write side after it and returns all
// the server answered until it closed its side.
std::string exchange(Service& s, kj::ArrayPtr<const kj::byte> request) {
  kj::HttpServer server(
      s.io.provider->getTimer(), s.headerTable,
      [&s](kj::AsyncIoStream& connection) { return s.service.forConnection(connection); },
      s.settings);
  auto pipe = kj::newTwoWayPipe();
  kj::Own<kj::AsyncIoStream> client = kj::mv(pipe.ends[1]);
  auto serving = server.listenHttp(kj::mv(pipe.ends[0]))
                     .catch_([](kj::Exception&&) {})
                     .eagerlyEvaluate(nullptr);
  auto writing = client->write(request.begin(), request.size())
                     .then([&client]() { client->shutdownWrite(); })
                     .catch_([](kj::Exception&&) {})
                     .eagerlyEvaluate(nullptr);
  kj::Array<kj::byte> reply =
      client->readAllBytes()
          .catch_([](kj::Exception&&) -> kj::Array<kj::byte> { return nullptr; })
          .wait(s.io.waitScope);
  writing.wait(s.io.waitScope);
  serving.wait(s.io.waitScope);
  return std::string(reinterpret_cast<const char*>(reply.begin()), reply.size());
}

// The store after a release registration as `octolaunch release create` sends it.
Service& seededService() {
  auto* s = new Service();  // lives until exit: the pool's thread must not be joined during exit
  const std::string body =
      R"({"environment":"production","id":"r42","service":"api","target_hosts":["web-1"],)"
      R"("version":"1.4.2"})";
  const std::string request =
      "POST /api/v1/releases HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer fuzz-admin-token\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::string reply =
      exchange(*s, kj::arrayPtr(reinterpret_cast<const kj::byte*>(request.data()), request.size()));
  if (reply.rfind("HTTP/1.1 201", 0) != 0) {
    fprintf(stderr, "seeding the release failed: %s\n", reply.c_str());
    std::abort();
  }
  return *s;
}

void checkAnswer(std::string_view reply) {
  if (reply.empty()) return;  // e.g. the request never ended
  if (reply.substr(0, 9) != "HTTP/1.1 ") {
    fprintf(stderr, "not an HTTP/1.1 answer: %.200s\n", std::string(reply).c_str());
    std::abort();
  }
  // With its CRLF, which a JSON body cannot hold raw: a body quoting the request never matches.
  constexpr std::string_view k500 = "HTTP/1.1 500 Internal Server Error\r\n";
  if (std::size_t at = reply.find(k500); at != std::string_view::npos) {
    fprintf(stderr, "500 answer: %.400s\n", std::string(reply.substr(at)).c_str());
    std::abort();
  }
}

}  // namespace
}  // namespace octolaunch::http

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::http;
  static Service& service = seededService();
  checkAnswer(exchange(service, kj::arrayPtr(data, size)));
  return 0;
}
