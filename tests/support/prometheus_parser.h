// A strict reader of the Prometheus text format (0.0.4), for tests of /metrics: it refuses what a
// lenient scraper would let pass, so a test fails on the first malformed line.
//
// Checked: metric and label name charsets; label values quoted with only \\, \" and \n escapes;
// no repeated label name in a series; values that parse as floats (+Inf, -Inf, NaN); "# HELP" and
// "# TYPE" at most once per family, TYPE before the family's samples; a family's samples
// together; no series twice; counters named *_total; histograms with cumulative le buckets
// ending at +Inf equal to _count. Comments other than HELP and TYPE, and timestamps, are refused
// (OctoLaunch writes neither).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace octolaunch::testing {

struct MetricSeries {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ParsedMetrics {
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram|...
  std::vector<MetricSeries> series;          // in the text's order

  // The value of the series name{labels} (exactly those labels), if present.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
  // Every series of that name.
  std::vector<MetricSeries> all(const std::string& name) const;
};

// The text parsed; throws std::runtime_error naming the line number and what is wrong.
ParsedMetrics parsePrometheusText(const std::string& text);

}  // namespace octolaunch::testing
