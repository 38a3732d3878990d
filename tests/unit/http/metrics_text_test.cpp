// The pieces of /metrics: the text writer's escaping and values, route labels, the request
// histogram, /proc parsing, and the per-agent table behind the agent families.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "collector/http/http_metrics.h"
#include "collector/http/process_metrics.h"
#include "collector/store/agent_status.h"
#include "shared/util/prometheus_text.h"
#include "tests/support/prometheus_parser.h"

namespace octolaunch::http {
namespace {

using testing::parsePrometheusText;

TEST(PrometheusText, EscapesLabelValuesAndHelpSoAnyStringParses) {
  PrometheusText out;
  out.family("x_total", "counter", "Help with \\ and\nnewline and \"quotes\".");
  const std::string nasty = "a\"b\\c\nd}e,f=g";
  out.sample("x_total", {{"agent", nasty}}, std::uint64_t{3});
  const auto parsed = parsePrometheusText(out.text());
  EXPECT_EQ(parsed.value("x_total", {{"agent", nasty}}), 3.0);
  EXPECT_NE(out.text().find("# HELP x_total Help with \\\\ and\\nnewline and \"quotes\".\n"),
            std::string::npos)
      << out.text();
}

TEST(PrometheusText, ValuesPrintExactly) {
  EXPECT_EQ(formatMetricValue(0), "0");
  EXPECT_EQ(formatMetricValue(20000), "20000");
  EXPECT_EQ(formatMetricValue(0.25), "0.25");
  EXPECT_EQ(formatMetricValue(1796609990.25), "1796609990.25");  // a start time keeps its digits
  EXPECT_EQ(formatMetricValue(INFINITY), "+Inf");
  EXPECT_EQ(formatMetricValue(-INFINITY), "-Inf");
  EXPECT_EQ(formatMetricValue(NAN), "NaN");
}

TEST(HttpMetrics, RouteLabelsArePatternsWithoutRegexSyntax) {
  EXPECT_EQ(routeLabel("/metrics"), "/metrics");
  EXPECT_EQ(routeLabel(R"(/api/v1/releases/([^/]+))"), "/api/v1/releases/{id}");
  EXPECT_EQ(routeLabel(R"(/api/v1/releases/([^/]+)/timeline)"), "/api/v1/releases/{id}/timeline");
  EXPECT_EQ(routeLabel(R"(/a/((x|y)+)/b\.c)"), "/a/{id}/b.c");
}

TEST(HttpMetrics, RequestsAreCountedByRouteMethodAndCodeWithAHistogram) {
  HttpRequestMetrics requests;
  requests.observe("/metrics", "GET", 200, 0.0005);
  requests.observe("/metrics", "GET", 200, 0.3);
  requests.observe("/metrics", "GET", 401, 0.0001);
  requests.observe("unmatched", "POST", 404, 20.0);  // beyond the last bucket
  PrometheusText out;
  requests.write(out);
  const auto m = parsePrometheusText(out.text());  // also checks the histogram's shape
  for (const auto& [code, n] : {std::pair{"200", 2.0}, std::pair{"401", 1.0}}) {
    EXPECT_EQ(m.value("octolaunch_http_requests_total",
                      {{"route", "/metrics"}, {"method", "GET"}, {"code", code}}),
              n);
  }
  auto bucket = [&](const std::string& route, const std::string& method, const std::string& le) {
    return m.value("octolaunch_http_request_duration_seconds_bucket",
                   {{"route", route}, {"method", method}, {"le", le}});
  };
  EXPECT_EQ(bucket("/metrics", "GET", "0.001"), 2.0);
  EXPECT_EQ(bucket("/metrics", "GET", "0.25"), 2.0);
  EXPECT_EQ(bucket("/metrics", "GET", "0.5"), 3.0);
  EXPECT_EQ(bucket("unmatched", "POST", "10"), 0.0);
  EXPECT_EQ(bucket("unmatched", "POST", "+Inf"), 1.0);
  const auto sum = m.value("octolaunch_http_request_duration_seconds_sum",
                           {{"route", "/metrics"}, {"method", "GET"}});
  ASSERT_TRUE(sum);
  EXPECT_NEAR(*sum, 0.3006, 1e-9);
}

TEST(ProcessMetrics, StatFieldsAreCountedAfterTheLastParenthesis) {
  // A command name with spaces and parentheses, as a process may choose.
  const std::string stat =
      "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 3 0 123456 "
      "9000000 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto p = parseProcStat(stat);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->utimeTicks, 150u);
  EXPECT_EQ(p->stimeTicks, 25u);
  EXPECT_EQ(p->startTicks, 123456u);
  EXPECT_EQ(p->virtualBytes, 9000000u);
  EXPECT_EQ(p->residentPages, 2048u);
  EXPECT_FALSE(parseProcStat("4242 (x) S 1 2 3\n"));
  EXPECT_FALSE(parseProcStat("no parenthesis"));
  EXPECT_EQ(parseBootTime("cpu  1 2 3\nbtime 1796600000\nprocesses 9\n"), 1796600000u);
  EXPECT_FALSE(parseBootTime("cpu  1 2 3\n"));
  // This process, for real.
  const auto self = sampleProcess();
  ASSERT_TRUE(self);
  EXPECT_GT(self->residentBytes, 0u);
  EXPECT_GT(self->startTimeSeconds, 1e9);
}

// The event time and the offset come from the agent: extreme values clamp, never overflow (the
// ingest fuzzer's finding; under UBSan an overflow aborts).
TEST(AgentStatusTable, ExtremeTimesFromAnAgentClampTheLag) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  AgentStatusTable table(2);
  table.noteDelivered("a", 10'000, kMax, kMax);
  EXPECT_EQ(table.find("a")->lagNs, kMin);
  table.noteDelivered("a", 10'000, kMin, kMin);
  EXPECT_EQ(table.find("a")->lagNs, kMax);
  table.noteDelivered("a", 10'000, kMax, -kMax);
  EXPECT_EQ(table.find("a")->lagNs, 10'000);
}

TEST(AgentStatusTable, LagIsCorrectedByTheOffsetAndTheLeastRecentlySeenIsForgotten) {
  AgentStatusTable table(2);
  table.noteSeen("a", "host-a", 100);
  table.noteDelivered("a", 10'000, 7'000, std::nullopt);
  EXPECT_EQ(table.find("a")->lagNs, 3'000);
  table.noteDelivered("a", 10'000, 7'000, 1'000);  // the agent's clock is 1 µs behind
  EXPECT_EQ(table.find("a")->lagNs, 2'000);
  EXPECT_EQ(table.find("a")->host, "host-a");
  EXPECT_FALSE(table.find("a")->health);

  table.noteSeen("b", "host-b", 300);
  table.noteSeen("a", "host-a", 400);
  table.noteSeen("c", "host-c", 500);  // over the bound: b, seen least recently, goes
  EXPECT_TRUE(table.find("a"));
  EXPECT_FALSE(table.find("b"));
  EXPECT_TRUE(table.find("c"));
  EXPECT_EQ(table.snapshot().size(), 2u);
}

}  // namespace
}  // namespace octolaunch::http
