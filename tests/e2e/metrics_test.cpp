// /metrics of the real collector with a real agent: the text is valid Prometheus exposition (a
// strict parser), the build and process are described, HTTP requests are counted by route
// pattern, stored events by kind, and the agent's own health appears under its agent label (and
// in GET /api/v1/agents).
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

#include "tests/support/harness.h"
#include "tests/support/prometheus_parser.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "metrics-enrollment-secret";
constexpr const char* kAgent = "agent-obs";

struct Observed {
  TempDir dir;
  CollectorProcess collector{
      {.dataDir = dir / "collector", .extraArgs = {"--agent-token", kSecret}, .openIngest = false}};

  // Every host source off but fd, which reads a file that is not there: one source problem.
  std::vector<std::string> agentArgs(const std::string& command) {
    const std::filesystem::path config = dir / "agent.toml";
    std::ofstream(config) << "[sources.kmsg]\nenabled = false\n"
                          << "[sources.cgroup]\nenabled = false\n"
                          << "[sources.psi]\nenabled = false\n"
                          << "[sources.disk]\nenabled = false\n"
                          << "[sources.journal]\nenabled = false\n"
                          << "[sources.containers]\nenabled = false\n"
                          << "[sources.fd]\nfile_nr = \"" << (dir / "no-file-nr").string()
                          << "\"\n";
    std::vector<std::string> argv = {binPath("octolaunch-agent"), command};
    auto flags = agentFlags(dir / "spool", kAgent, "web-obs", collector.rpcAddress());
    flags[1] = config.string();  // --config
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--token", kSecret});
    return argv;
  }

  std::string scrapeText() {
    HttpResult r = httpGet(collector.httpPort(), "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.raw;
  }
  ParsedMetrics scrape() { return parsePrometheusText(scrapeText()); }
};

TEST(Metrics, TheCollectorDescribesItselfItsRequestsEventsAndAgents) {
  const double testStart = static_cast<double>(std::time(nullptr));
  Observed o;
  o.collector.start();
  // No event transaction yet: the time of the last one is 0.
  EXPECT_EQ(o.scrape().value("octolaunch_ingest_last_commit_timestamp_seconds"), 0.0)
      << o.scrapeText();
  Process agent({.argv = o.agentArgs("run"), .captureStdout = false});

  auto hook = o.agentArgs("hook");
  for (std::string a : {"--release", "r-obs", "--service", "api", "--", "sh", "-c",
                        "echo one; echo two; echo three; exit 0"})
    hook.push_back(a);
  ASSERT_EQ(run(hook, 60s).exitCode, 0);

  // Events by kind, with the kind as a label.
  const std::map<std::string, std::string> exitKind = {{"kind", "hook.exit"}};
  ASSERT_TRUE(waitUntil(
      [&] { return o.scrape().value("octolaunch_events_stored_total", exitKind) == 1.0; }, 30s))
      << o.scrapeText();
  ParsedMetrics m = o.scrape();
  EXPECT_EQ(m.value("octolaunch_events_stored_total", {{"kind", "hook.output"}}), 3.0);
  EXPECT_EQ(m.value("octolaunch_events_stored_total", {{"kind", "oom.kill"}}), 0.0);
  EXPECT_EQ(m.types["octolaunch_events_stored_total"], "counter");

  // The build.
  ASSERT_EQ(m.all("octolaunch_build_info").size(), 1u);
  EXPECT_EQ(m.all("octolaunch_build_info")[0].value, 1.0);
  EXPECT_FALSE(m.all("octolaunch_build_info")[0].labels["version"].empty());

  // The process, plausible for a collector that started a moment ago.
  const double now = static_cast<double>(std::time(nullptr));
  const auto rss = m.value("process_resident_memory_bytes");
  ASSERT_TRUE(rss);
  EXPECT_GT(*rss, 1e6);
  EXPECT_LT(*rss, 4e9);
  const auto cpu = m.value("process_cpu_seconds_total");
  ASSERT_TRUE(cpu);
  EXPECT_GE(*cpu, 0.0);
  EXPECT_LT(*cpu, 600.0);
  const auto fds = m.value("process_open_fds");
  const auto maxFds = m.value("process_max_fds");
  ASSERT_TRUE(fds && maxFds);
  EXPECT_GE(*fds, 3.0);  // at least the store, the listeners
  EXPECT_LE(*fds, *maxFds);
  const auto started = m.value("process_start_time_seconds");
  ASSERT_TRUE(started);
  EXPECT_GT(*started, now - 600);
  EXPECT_LE(*started, now + 1);
  EXPECT_EQ(m.types["process_cpu_seconds_total"], "counter");
  EXPECT_EQ(m.types["process_resident_memory_bytes"], "gauge");
  // When the hook's events were committed: after this test began, not after this scrape.
  const auto lastCommit = m.value("octolaunch_ingest_last_commit_timestamp_seconds");
  ASSERT_TRUE(lastCommit);
  EXPECT_GE(*lastCommit, testStart);
  EXPECT_LE(*lastCommit, now + 1);
  EXPECT_EQ(m.types["octolaunch_ingest_last_commit_timestamp_seconds"], "gauge");

  // Requests by route pattern and code: the scrapes so far answered 200; a release id is not a
  // label value, its route pattern is.
  EXPECT_EQ(httpGet(o.collector.httpPort(), "/api/v1/releases/no-such-release").status, 404);
  EXPECT_EQ(httpGet(o.collector.httpPort(), "/no/such/path").status, 404);
  m = o.scrape();
  auto gets = [&m](const std::string& route, const std::string& code) {
    return m.value("octolaunch_http_requests_total",
                   {{"route", route}, {"method", "GET"}, {"code", code}});
  };
  const auto scrapes = gets("/metrics", "200");
  ASSERT_TRUE(scrapes) << o.scrapeText();
  EXPECT_GE(*scrapes, 2.0);
  EXPECT_EQ(gets("/api/v1/releases/{id}", "404"), 1.0);
  EXPECT_EQ(gets("unmatched", "404"), 1.0);
  for (const MetricSeries& s : m.all("octolaunch_http_requests_total")) {
    EXPECT_EQ(s.labels.at("route").find("no-such"), std::string::npos) << s.labels.at("route");
  }
  EXPECT_EQ(m.types["octolaunch_http_request_duration_seconds"], "histogram");
  const auto scrapeCount = m.value("octolaunch_http_request_duration_seconds_count",
                                   {{"route", "/metrics"}, {"method", "GET"}});
  ASSERT_TRUE(scrapeCount);
  EXPECT_EQ(*scrapeCount, *scrapes);

  // The agent: seen, its delivery lag, and the health it reported with the fd source's problem.
  const std::map<std::string, std::string> agentLabel = {{"agent", kAgent}};
  ASSERT_TRUE(waitUntil(
      [&] {
        return o.scrape().value("octolaunch_agent_source_errors_total",
                                {{"agent", kAgent}, {"source", "fd"}}) >= 1.0;
      },
      30s))
      << o.scrapeText();
  m = o.scrape();
  const auto seen = m.value("octolaunch_agent_last_seen_timestamp_seconds", agentLabel);
  ASSERT_TRUE(seen);
  EXPECT_GT(*seen, now - 120);
  EXPECT_LE(*seen, now + 5);
  const auto lag = m.value("octolaunch_agent_lag_seconds", agentLabel);
  ASSERT_TRUE(lag);
  EXPECT_GT(*lag, -5.0);
  EXPECT_LT(*lag, 60.0);
  EXPECT_TRUE(m.value("octolaunch_agent_spool_events", agentLabel));
  EXPECT_TRUE(m.value("octolaunch_agent_spool_bytes", agentLabel));
  EXPECT_EQ(m.value("octolaunch_agent_events_shed_total", agentLabel), 0.0);
  EXPECT_EQ(m.value("octolaunch_agent_recording_failures_total", agentLabel), 0.0);
  EXPECT_TRUE(m.value("octolaunch_agent_health_report_timestamp_seconds", agentLabel));

  // The same health in the agents list.
  HttpResult agents = httpGet(o.collector.httpPort(), "/api/v1/agents");
  ASSERT_EQ(agents.status, 200);
  ASSERT_EQ(agents.body["agents"].size(), 1u) << agents.raw;
  const nlohmann::json& listed = agents.body["agents"][0];
  EXPECT_EQ(listed["agent_id"], kAgent);
  ASSERT_TRUE(listed["health"].is_object()) << agents.raw;
  EXPECT_GE(listed["health"]["source_errors"]["fd"].get<int>(), 1);
  EXPECT_TRUE(listed["health"]["spool_events"].is_number());
  EXPECT_EQ(listed["health"]["recording_failures"], 0);
  EXPECT_TRUE(listed["lag_seconds"].is_number());
}

// The strict parser must refuse what it exists to catch (else the test above proves nothing).
TEST(Metrics, TheParserRefusesMalformedText) {
  const std::string good =
      "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 2\n";
  EXPECT_NO_THROW(parsePrometheusText(good));
  const char* bad[] = {
      "# TYPE a_total counter\na_total 1\na_total 2\n",               // series twice
      "# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n",  // TYPE twice
      "a_total 1\n",                                                  // no TYPE
      "# TYPE a counter\na 1\n",                                      // counter w/o _total
      "# TYPE a gauge\na{x=\"1\\q\"} 1\n",                            // bad escape
      "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",                       // label twice
      "# TYPE a gauge\na{1x=\"1\"} 1\n",                              // label charset
      "# TYPE a-b gauge\na-b 1\n",                                    // name charset
      "# TYPE a gauge\na one\n",                                      // value
      "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"y\"} 1\n",     // apart
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n",
      "# TYPE a gauge\na 1",  // no final newline
  };
  for (const char* text : bad) {
    EXPECT_THROW(parsePrometheusText(text), std::runtime_error) << text;
  }
}

}  // namespace
}  // namespace octolaunch::testing
