#include "agent/sources/health/health_monitor.h"

#include <gtest/gtest.h>

#include "agent/config/agent_config.h"
#include "agent/deploy/deploy_observation.h"
#include "agent/sources/event_out.h"
#include "agent/sources/health/health_source.h"
#include "agent/sources/source_set.h"
#include "tests/support/fake_sink.h"
#include "tests/support/io_thread.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"
#include "tests/unit/sources/http_test_server.h"

namespace octolaunch::sources {
namespace {

using namespace std::chrono_literals;
using services::DeployRecord;
using services::HealthProbeConfig;
using services::ProbeType;
using services::ServiceConfig;
using testing::FakeSink;
using testing::IoThread;
using testing::TempDir;
using Events = std::vector<nlohmann::json>;

using FlakyServer = testing::HttpTestServer;

ServiceConfig apiService(const std::string& url) {
  ServiceConfig service;
  service.name = "api";
  HealthProbeConfig probe;
  probe.type = ProbeType::http;
  probe.url = url;
  probe.timeout = 2s;
  service.health = {probe};
  service.healthWatch = 60s;
  service.healthWatchInterval = 20ms;
  service.healthInterval = 60s;  // slow: before a deploy only the first run at start happens
  return service;
}

std::size_t countKind(const Events& events, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& e : events) n += e["kind"] == kind;
  return n;
}

struct Harness {
  TempDir spool;
  FakeSink sink;
  SystemClock clock;
  EventOut out{sink, clock};
  IoThread io;
  std::unique_ptr<AsioHealthProber> prober;
  std::unique_ptr<HealthMonitor> monitor;

  explicit Harness(std::vector<ServiceConfig> services) {
    io.run([&] {
      prober = std::make_unique<AsioHealthProber>(io.io());
      monitor = std::make_unique<HealthMonitor>(io.io(), std::move(services), *prober, out,
                                                services::deploysDir(spool.path()));
      return 0;
    });
  }
  bool start() {
    return io.run([&] { return monitor->start(); });
  }
  void deploy(const std::string& release) {
    services::writeDeployRecord(spool.path(), DeployRecord{"api", release, clock.nowNs(), "ok"});
  }
  ~Harness() {
    io.run([&] {  // asio objects are the io thread's: stop and destroy them there
      monitor->stop();
      monitor.reset();
      prober.reset();
      return 0;
    });
  }
};

TEST(HealthMonitor, FailingThenRecoveringEmitsExactlyOneFailedThenOneRecovered) {
  FlakyServer server;
  Harness h({apiService(server.url())});
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(server.waitForHits(1));  // the first run at start
  h.deploy("r42");
  // Runs every 20 ms only once the deploy record was seen through inotify (the slow interval is 60
  // s).
  ASSERT_TRUE(server.waitForHits(5)) << "deploy record not noticed";

  server.setStatus(503);
  ASSERT_TRUE(
      h.sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 1; }, 10s));
  ASSERT_TRUE(server.waitForHits(server.hits() + 5));  // still failing: no new event
  server.setStatus(200);
  ASSERT_TRUE(
      h.sink.waitFor([](const Events& e) { return countKind(e, "health.recovered") == 1; }, 10s));
  ASSERT_TRUE(server.waitForHits(server.hits() + 5));  // healthy again: no new event

  const Events events = h.sink.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["kind"], "health.failed");
  EXPECT_EQ(events[0]["service"], "api");
  EXPECT_EQ(events[0]["release"], "r42");
  EXPECT_EQ(events[0]["data"]["probe"], "http");
  EXPECT_EQ(events[0]["data"]["target"], server.url());
  EXPECT_EQ(events[0]["data"]["status"], "503");
  EXPECT_EQ(events[0]["data"]["error"], "expected status 200, got 503");
  EXPECT_LT(events[0]["data"]["latency_ms"].get<std::uint64_t>(), 2000u);
  EXPECT_EQ(events[1]["kind"], "health.recovered");
  EXPECT_EQ(events[1]["release"], "r42");
  EXPECT_EQ(events[1]["data"]["status"], "200");
  EXPECT_EQ(events[1]["data"]["error"], "");
}

TEST(HealthMonitor, FailureThatOutlivesADeployIsReportedAgainForTheNewRelease) {
  FlakyServer server;
  server.setStatus(500);
  Harness h({apiService(server.url())});
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(
      h.sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 1; }, 10s));
  EXPECT_EQ(h.sink.events()[0]["release"], "");  // no deploy seen yet
  h.deploy("r43");
  ASSERT_TRUE(
      h.sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 2; }, 10s));
  ASSERT_TRUE(server.waitForHits(server.hits() + 5));
  const Events events = h.sink.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["release"], "r43");
}

TEST(HealthMonitor, RecentDeployRecordAtStartStartsTheWatchPeriod) {
  FlakyServer server;
  Harness h({apiService(server.url())});
  h.deploy("r44");  // written while the daemon was down
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(server.waitForHits(5)) << "watch period not started from the existing record";
  server.setStatus(502);
  ASSERT_TRUE(
      h.sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 1; }, 10s));
  EXPECT_EQ(h.sink.events()[0]["release"], "r44");
}

TEST(HealthMonitor, TcpProbeToClosedPortReportsOnce) {
  ServiceConfig service;
  service.name = "db";
  HealthProbeConfig probe;
  probe.type = ProbeType::tcp;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    probe.address = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }
  service.health = {probe};
  service.healthInterval = 20ms;
  Harness h({service});
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.sink.waitFor([](const Events& e) { return !e.empty(); }, 10s));
  const std::uint64_t runsAtFirstEvent = h.io.run([&] { return h.monitor->stats().runs; });
  // Wait for several more runs (each 20 ms apart) without polling the sink for luck.
  EXPECT_TRUE(testing::waitUntil(
      [&] { return h.io.run([&] { return h.monitor->stats().runs; }) >= runsAtFirstEvent + 5; },
      10s))
      << "fewer than 5 more probe runs";
  const Events events = h.sink.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["kind"], "health.failed");
  EXPECT_EQ(events[0]["service"], "db");
  EXPECT_EQ(events[0]["data"]["probe"], "tcp");
  EXPECT_EQ(events[0]["data"]["error"], "connect " + probe.address + ": Connection refused");
}

TEST(HealthMonitor, NothingToDoWithoutProbes) {
  ServiceConfig service;
  service.name = "quiet";
  Harness h({service});
  EXPECT_FALSE(h.start());
}

// Both sides as the binaries use them: the daemon's SourceSet configured from agent.toml (here
// with every host source off, so the health probes run alone), and recordDeployFinish() as
// `deploy finish` calls it.
TEST(HealthSource, RunsInTheSourceSetFromAgentConfigAndSeesDeployFinish) {
  FlakyServer server;
  server.setStatus(500);
  TempDir spool;
  auto config = agent::parseAgentConfig("[spool]\ndir = \"" + spool.path().string() +
                                            "\"\n[sources]\nenabled = false\n"
                                            "[service.api]\nconfig_files = [\"/etc/hostname\"]\n"
                                            "health = [{ type = \"http\", url = \"" +
                                            server.url() +
                                            "\" }]\nhealth_watch_interval_seconds = 0.02\n"
                                            "[service.quiet]\nunits = [\"quiet.service\"]\n",
                                        "agent.toml");
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  std::unique_ptr<SourceSet> set;
  const auto running = io.run([&] {
    set = std::make_unique<SourceSet>(io.io(), sink, sourcesConfigFor(config.raw, spool.path()),
                                      clock);
    return set->start();
  });
  EXPECT_EQ(running, std::vector<std::string>{"health"});
  ASSERT_TRUE(
      sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 1; }, 10s));
  EXPECT_FALSE(deploy::recordDeployFinish(config, "api", "r9", "ok", clock));
  ASSERT_TRUE(
      sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 2; }, 10s));
  EXPECT_EQ(sink.events()[1]["release"], "r9");
  server.setStatus(200);
  ASSERT_TRUE(
      sink.waitFor([](const Events& e) { return countKind(e, "health.recovered") == 1; }, 10s));
  EXPECT_EQ(sink.events()[2]["release"], "r9");
  io.run([&] {
    set->stop();
    set.reset();
    return 0;
  });
}

// The daemon's one sources thread runs the probes too; destroying it stops them.
TEST(HealthSource, RunsOnTheSourcesThreadUntilDestroyed) {
  FlakyServer server;
  server.setStatus(503);
  TempDir spool;
  auto config = agent::parseAgentConfig(
      "[spool]\ndir = \"" + spool.path().string() +
          "\"\n[sources]\nenabled = false\n[service.api]\nhealth = [{ type = \"http\", url = \"" +
          server.url() + "\" }]\nhealth_interval_seconds = 0.02\n",
      "agent.toml");
  FakeSink sink;
  SystemClock clock;
  {
    SourcesThread sources(sink, clock, sourcesConfigFor(config.raw, spool.path()));
    EXPECT_EQ(sources.running(), std::vector<std::string>{"health"});
    ASSERT_TRUE(
        sink.waitFor([](const Events& e) { return countKind(e, "health.failed") == 1; }, 10s));
  }
  EXPECT_EQ(sink.events().size(), 1u);
}

TEST(HealthSource, NoProbesNoSource) {
  TempDir spool;
  auto config =
      agent::parseAgentConfig("[service.quiet]\nunits = [\"quiet.service\"]\n", "agent.toml");
  FakeSink sink;
  SystemClock clock;
  EventOut out(sink, clock);
  boost::asio::io_context io;
  EXPECT_EQ(makeHealthSource(io, out, sourcesConfigFor(config.raw, spool.path()).health), nullptr);
}

}  // namespace
}  // namespace octolaunch::sources
