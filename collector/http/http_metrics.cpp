#include "collector/http/http_metrics.h"

#include <algorithm>

#include "collector/http/process_metrics.h"
#include "octolaunch_version.h"

namespace octolaunch::http {

std::string routeLabel(std::string_view pattern) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (depth == 0) out += pattern[i + 1];
      ++i;
    } else if (c == '(') {
      if (depth++ == 0) out += "{id}";
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

void HttpRequestMetrics::observe(const std::string& route, std::string_view method, int code,
                                 double seconds) {
  const auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  std::lock_guard lock(mutex_);
  Series& s = series_[{route, std::string(method)}];
  ++s.byCode[code];
  if (bucket != kBuckets.end()) ++s.buckets[static_cast<std::size_t>(bucket - kBuckets.begin())];
  ++s.count;
  s.sumSeconds += seconds;
}

void HttpRequestMetrics::write(PrometheusText& out) const {
  std::lock_guard lock(mutex_);
  out.family("octolaunch_http_requests_total", "counter",
             "HTTP requests answered by the API, by route pattern (\"unmatched\": no route), "
             "method and status code.");
  for (const auto& [key, s] : series_) {
    for (const auto& [code, n] : s.byCode) {
      const std::string codeText = std::to_string(code);
      out.sample("octolaunch_http_requests_total",
                 {{"route", key.first}, {"method", key.second}, {"code", codeText}}, n);
    }
  }
  out.family("octolaunch_http_request_duration_seconds", "histogram",
             "Time the API took to answer a request (routing and handler, not the transfer), by "
             "route pattern and method.");
  for (const auto& [key, s] : series_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += s.buckets[i];
      const std::string le = formatMetricValue(kBuckets[i]);
      out.sample("octolaunch_http_request_duration_seconds_bucket",
                 {{"route", key.first}, {"method", key.second}, {"le", le}}, cumulative);
    }
    out.sample("octolaunch_http_request_duration_seconds_bucket",
               {{"route", key.first}, {"method", key.second}, {"le", "+Inf"}}, s.count);
    out.sample("octolaunch_http_request_duration_seconds_sum",
               {{"route", key.first}, {"method", key.second}}, s.sumSeconds);
    out.sample("octolaunch_http_request_duration_seconds_count",
               {{"route", key.first}, {"method", key.second}}, s.count);
  }
}

void writeProcessMetrics(PrometheusText& out) {
  out.family("octolaunch_build_info", "gauge",
             "Always 1; the labels say which build of the collector is running.");
  out.sample("octolaunch_build_info", {{"version", kVersion}}, std::uint64_t{1});
  if (auto p = sampleProcess()) {
    out.single("process_cpu_seconds_total", "counter", "User and system CPU time spent.",
               p->cpuSeconds);
    out.single("process_resident_memory_bytes", "gauge", "Resident memory size.", p->residentBytes);
    out.single("process_virtual_memory_bytes", "gauge", "Virtual memory size.", p->virtualBytes);
    out.single("process_start_time_seconds", "gauge",
               "Start time of the process since the Unix epoch.", p->startTimeSeconds);
  }
  if (auto fds = countOpenFds()) {
    out.single("process_open_fds", "gauge", "Open file descriptors.", *fds);
  }
  if (auto limit = maxFds()) {
    out.single("process_max_fds", "gauge", "The soft limit on open file descriptors.", *limit);
  }
}

}  // namespace octolaunch::http
