#include "shared/util/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace octolaunch {

namespace {

// Backslash and newline escaped, and double quotes when quotes (label values; help keeps them).
std::string escaped(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string escapeLabelValue(std::string_view value) { return escaped(value, true); }

std::string formatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest exact
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(escaped(help, false)).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, double value) {
  labelsAndValue(name, labels, formatMetricValue(value));
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels,
                            std::uint64_t value) {
  labelsAndValue(name, labels, std::to_string(value));
}

void PrometheusText::single(std::string_view name, std::string_view type, std::string_view help,
                            std::uint64_t value) {
  family(name, type, help);
  sample(name, value);
}

void PrometheusText::single(std::string_view name, std::string_view type, std::string_view help,
                            double value) {
  family(name, type, help);
  sample(name, value);
}

void PrometheusText::labelsAndValue(std::string_view name, const MetricLabels& labels,
                                    std::string_view value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [label, labelValue] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_.append(label).append("=\"").append(escapeLabelValue(labelValue)).append("\"");
    }
    out_ += '}';
  }
  out_.append(" ").append(value).append("\n");
}

}  // namespace octolaunch
