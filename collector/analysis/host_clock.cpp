#include "collector/analysis/host_clock.h"

#include <cstdio>
#include <cstdlib>

namespace octolaunch::analysis {

HostClock measuredClock(std::int64_t offsetNs, std::int64_t roundTripNs, std::int64_t floorNs) {
  return {offsetNs, (roundTripNs > 0 ? roundTripNs / 2 : 0) + floorNs, true};
}

HostClock HostClocks::of(std::string_view host) const {
  auto it = clocks_.find(host);
  if (it != clocks_.end()) return it->second;
  return {0, unmeasuredNs_, false};
}

std::int64_t HostClocks::toCollectorNs(std::string_view host, std::int64_t agentNs) const {
  return host.empty() ? agentNs : agentNs + of(host).offsetNs;
}

HostClocks::Order HostClocks::compareAcross(std::string_view hostA, std::int64_t a,
                                            std::string_view hostB, std::int64_t b) const {
  if (hostA == hostB) return a < b ? Order::before : a > b ? Order::after : Order::overlapping;
  const std::int64_t slack =
      (hostA.empty() ? 0 : of(hostA).uncertaintyNs) + (hostB.empty() ? 0 : of(hostB).uncertaintyNs);
  const std::int64_t d = toCollectorNs(hostA, a) - toCollectorNs(hostB, b);
  if (d < -slack) return Order::before;
  if (d > slack) return Order::after;
  return Order::overlapping;
}

std::string relativeTime(std::int64_t t, std::int64_t ref) {
  const std::int64_t d = t - ref;
  if (d == 0) return "at the same time as";
  const double abs = static_cast<double>(std::llabs(d));
  char buf[48];
  if (abs < 1e9) {
    std::snprintf(buf, sizeof buf, "%.0f ms", abs / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f s", abs / 1e9);
  }
  return std::string(buf) + (d > 0 ? " after" : " before");
}

}  // namespace octolaunch::analysis

namespace octolaunch::analysis {

std::string clockText(const HostClock& c) {
  if (!c.measured) return "clock not measured";
  std::string rel = relativeTime(0, c.offsetNs);  // "3 s before": the agent is behind
  if (c.offsetNs == 0) return "clock in step with the collector's";
  rel = rel.substr(0, rel.rfind(' ')) + (c.offsetNs > 0 ? " behind" : " ahead of");
  char buf[48];
  std::snprintf(buf, sizeof buf, " (+-%.0f ms)", static_cast<double>(c.uncertaintyNs) / 1e6);
  return "clock " + rel + " the collector's" + buf;
}

}  // namespace octolaunch::analysis
