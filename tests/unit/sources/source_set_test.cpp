// SourceSet / SourcesThread: the config the agent reads, and the set started and stopped as the
// agent's `run` does it.
#include "agent/sources/source_set.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "tests/support/fake_sink.h"
#include "tests/support/harness.h"
#include "tests/support/io_thread.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::sources {
namespace {

TEST(SourcesConfig, DefaultsTurnEverySourceOn) {
  const auto config = parseSourcesConfig(toml::table{});
  EXPECT_TRUE(config.enabled && config.kmsg.enabled && config.cgroup.enabled &&
              config.psi.enabled && config.disk.enabled && config.fd.enabled &&
              config.journal.enabled && config.containers.enabled);
  EXPECT_EQ(config.psi.triggerStallUs, 150000u);
  EXPECT_EQ(config.psi.triggerWindowUs, 2000000u);
}

TEST(SourcesConfig, ValuesAreRead) {
  const auto config = parseSourcesConfig(toml::parse(R"(
[sources]
state_dir = "/var/lib/x"
[sources.psi]
resources = ["memory"]
some_avg10_percent = 20
clear_avg10_percent = 10.5
[sources.disk]
mounts = ["/", "/data"]
include_tmpfs = true
[sources.containers]
sockets = ["/run/docker.sock"]
)"));
  EXPECT_EQ(config.stateDir, "/var/lib/x");
  EXPECT_EQ(config.psi.resources, std::vector<std::string>{"memory"});
  EXPECT_DOUBLE_EQ(config.psi.someAvg10Percent, 20.0);
  EXPECT_DOUBLE_EQ(config.psi.clearAvg10Percent, 10.5);
  EXPECT_EQ(config.disk.mounts.size(), 2u);
  EXPECT_TRUE(config.disk.includeTmpfs);
  EXPECT_EQ(config.containers.sockets, std::vector<std::string>{"/run/docker.sock"});
}

TEST(SourcesConfig, BadValuesAreErrorsNamingTheKey) {
  auto error = [](const char* text) {
    try {
      parseSourcesConfig(toml::parse(text, std::string_view("agent.toml")));
    } catch (const SourcesConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("[sources.psi]\nsome_avg10_percent = \"high\"\n"),
            "agent.toml:2: sources.psi.some_avg10_percent: expected a number, got a string");
  EXPECT_EQ(error("[sources.kmsg]\nenabled = 1\n"),
            "agent.toml:2: sources.kmsg.enabled: expected true or false, got an integer");
  EXPECT_EQ(error("[sources.psi]\nresources = [\"disk\"]\n"),
            "agent.toml:2: sources.psi.resources: unknown resource \"disk\" (memory, io, cpu)");
  EXPECT_EQ(error("[sources.disk]\ninterval_ms = 5\n"),
            "agent.toml:2: sources.disk.interval_ms: must be between 100 and 86400000, got 5");
  EXPECT_EQ(error("[sources]\ncgroup = 3\n"),
            "agent.toml:2: sources.cgroup: expected a table, got an integer");
  EXPECT_EQ(error("sources = 1\n"), "agent.toml:1: sources: expected a table, got an integer");
  EXPECT_EQ(error("[sources.containers]\nsockets = [1]\n"),
            "agent.toml:2: sources.containers.sockets[0]: expected a string, got an integer");
}

TEST(SourcesConfig, UnknownKeysAreLenientlyWarnings) {
  const auto config = parseSourcesConfig(
      toml::parse("[sources.kmsg]\nenabeld = false\n", std::string_view("agent.toml")),
      config::Strictness::lenient);
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0],
            "agent.toml:2: sources.kmsg.enabeld: unknown key; did you mean `enabled`?");
  EXPECT_TRUE(config.kmsg.enabled);
}

TEST(SourcesThreadTest, StartsWhatTheHostSupportsAndStopsCleanly) {
  testing::TempDir state;
  testing::FakeSink sink;
  SystemClock clock;
  auto config = sourcesConfigFor(toml::table{}, state.path());
  EXPECT_EQ(config.stateDir, state.path());
  config.containers.sockets = {"/nonexistent/docker.sock"};
  {
    SourcesThread sources(sink, clock, config);
    const auto& running = sources.running();
    EXPECT_NE(std::find(running.begin(), running.end(), "disk"), running.end());
    EXPECT_EQ(std::find(running.begin(), running.end(), "containers"), running.end());
    if (::geteuid() == 0 && std::filesystem::exists("/dev/kmsg")) {
      EXPECT_NE(std::find(running.begin(), running.end(), "kmsg"), running.end());
    }
    sources.stop();
  }
  SUCCEED();
}

TEST(SourcesThreadTest, DisabledMeansNothingRuns) {
  testing::TempDir state;
  testing::FakeSink sink;
  SystemClock clock;
  SourcesConfig config;
  config.enabled = false;
  SourcesThread sources(sink, clock, config);
  EXPECT_TRUE(sources.running().empty());
}

// The set retries held events on its own (every second), without waiting for a source to publish
// again: here the only source polls once a day.
TEST(SourceSet, HeldEventsAreRetriedUntilTheSpoolTakesThem) {
  testing::FakeSink sink;
  testing::RefusingSink refusing(sink);
  SystemClock clock;
  SourcesConfig config;
  config.kmsg.enabled = config.cgroup.enabled = config.psi.enabled = config.disk.enabled = false;
  config.journal.enabled = config.containers.enabled = false;
  // The real file table is "exhausted" at the first poll (file-max may be 2^63 - 1 here).
  config.fd.usedPercent = std::numeric_limits<double>::min();
  config.fd.intervalMs = 86'400'000;
  testing::TempDir state;
  config.stateDir = state.path();
  testing::IoThread io;
  SourceSet set(io.io(), refusing, config, clock);
  EXPECT_EQ(io.run([&] { return set.start(); }), std::vector<std::string>{"fd"});
  testing::waitUntil([&] { return refusing.refused >= 2; }, std::chrono::seconds(3));
  EXPECT_GE(refusing.refused.load(), 2) << "the held event was not retried";
  EXPECT_TRUE(sink.events().empty());
  refusing.refuse = false;
  EXPECT_TRUE(
      sink.waitFor([](const auto& events) { return !events.empty(); }, std::chrono::seconds(3)))
      << "the held fd.exhausted never reached the spool";
  EXPECT_EQ(sink.eventsOfKind("fd.exhausted").size(), 1u);
  io.run([&] { set.stop(); });
}

}  // namespace
}  // namespace octolaunch::sources
