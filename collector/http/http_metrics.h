// What /metrics says about the HTTP API and the collector process itself:
//   octolaunch_http_requests_total{route,method,code}        requests answered by the router
//   octolaunch_http_request_duration_seconds{route,method}   histogram of the handler's time
//   octolaunch_build_info{version}                           always 1
//   process_*                                                from /proc/self (process_metrics.h)
//
// route is the route's pattern with each capture written "{id}" ("/api/v1/releases/{id}"), or
// "unmatched" for a path no route serves: the label's values are as many as the routes, never a
// client's raw paths. method is the request's ("GET", "HEAD", "POST": kj-http knows a fixed set).
// Requests the transport refused before routing (413, 408, 400, 414) are counted by HttpCounters
// (octolaunch_http_bad_requests_total and the like), not here.
//
// Threads: observe() and write() from any thread (one mutex).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "shared/util/prometheus_text.h"

namespace octolaunch::http {

// The route label of a route pattern (a std::regex over the path): every parenthesised group
// becomes "{id}".
std::string routeLabel(std::string_view pattern);

class HttpRequestMetrics final {
 public:
  // Upper bounds of the duration histogram, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   10};

  void observe(const std::string& route, std::string_view method, int code, double seconds);
  void write(PrometheusText& out) const;

 private:
  struct Series {
    std::map<int, std::uint64_t> byCode;
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // not cumulative: one per bound
    std::uint64_t count = 0;
    double sumSeconds = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Series> series_;  // (route, method); mutex_
};

// octolaunch_build_info and the process_* families of this process.
void writeProcessMetrics(PrometheusText& out);

}  // namespace octolaunch::http
