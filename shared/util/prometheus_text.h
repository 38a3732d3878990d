// Writing the Prometheus text exposition format (version 0.0.4), the body of GET /metrics.
//
// Contract: each family is written once, its "# HELP" and "# TYPE" lines first, then its samples
// (the caller keeps a family's samples together and never repeats a series). Help text and label
// values are escaped as the format requires (backslash, newline; and double quote in label
// values), so any string may be passed. Names are not checked: callers pass constants
// ([a-zA-Z_:][a-zA-Z0-9_:]*). Values print as integers when they are whole and as "+Inf", "-Inf"
// or "NaN" where they are not finite.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace octolaunch {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText final {
 public:
  // Starts a family: type is "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the family last started; name is the family's, or with a histogram's suffix
  // (_bucket, _sum, _count).
  void sample(std::string_view name, const MetricLabels& labels, double value);
  void sample(std::string_view name, const MetricLabels& labels, std::uint64_t value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  void sample(std::string_view name, std::uint64_t value) { sample(name, {}, value); }
  // A family of one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help,
              std::uint64_t value);
  void single(std::string_view name, std::string_view type, std::string_view help, double value);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void labelsAndValue(std::string_view name, const MetricLabels& labels, std::string_view value);
  std::string out_;
};

// "a\"b" for a"b: backslash, double quote and newline escaped.
std::string escapeLabelValue(std::string_view value);
// The value as the format writes it: "3", "0.25", "+Inf", "NaN".
std::string formatMetricValue(double value);

}  // namespace octolaunch
