// Clocks of the hosts: how an agent's event time maps onto the collector's clock, and how sure
// that is. Each agent measures its offset the way NTP does (rpc.capnp, ClockOffset) and the
// collector keeps its best recent sample; the analysis reads them as HostClocks.
//
// Contract
//  * Times of one host compare directly (one clock), whatever its offset.
//  * Times of different hosts, or a host's time and a collector time (CI stage reports,
//    registrations), compare only after toCollectorNs(), and are ordered only when they are
//    further apart than the two uncertainties together (compareAcross()).
//  * A host without a measured sample has offset 0 and the unmeasured uncertainty.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace octolaunch::analysis {

inline constexpr std::int64_t kClockFloorNs = 50'000'000;  // 50 ms: scheduling and stamping jitter
inline constexpr std::int64_t kUnmeasuredClockUncertaintyNs = 2'000'000'000;  // NTP-synced hosts

struct HostClock {
  std::int64_t offsetNs = 0;  // collector clock minus agent clock
  std::int64_t uncertaintyNs = kUnmeasuredClockUncertaintyNs;
  bool measured = false;
};

// From a sample: uncertainty = half its round trip + floorNs.
HostClock measuredClock(std::int64_t offsetNs, std::int64_t roundTripNs,
                        std::int64_t floorNs = kClockFloorNs);

// By host name.
class HostClocks {
 public:
  HostClocks() = default;
  explicit HostClocks(std::map<std::string, HostClock, std::less<>> clocks,
                      std::int64_t unmeasuredUncertaintyNs = kUnmeasuredClockUncertaintyNs)
      : clocks_(std::move(clocks)), unmeasuredNs_(unmeasuredUncertaintyNs) {}

  HostClock of(std::string_view host) const;
  // An agent time on `host` on the collector's clock.
  std::int64_t toCollectorNs(std::string_view host, std::int64_t agentNs) const;
  const std::map<std::string, HostClock, std::less<>>& all() const { return clocks_; }

  enum class Order { before, after, overlapping };
  // Where agent time a (on hostA) lies relative to agent time b (on hostB). Same host: exact
  // (overlapping only when equal). Empty host: the time is already a collector time (0
  // uncertainty).
  Order compareAcross(std::string_view hostA, std::int64_t a, std::string_view hostB,
                      std::int64_t b) const;

 private:
  std::map<std::string, HostClock, std::less<>> clocks_;
  std::int64_t unmeasuredNs_ = kUnmeasuredClockUncertaintyNs;
};

// "clock 3 s behind the collector's (+-70 ms)", "clock not measured".
std::string clockText(const HostClock& clock);

// "3 s after", "14 s before", "at the same time": how `t` relates to `ref` (same clock), with the
// sign spelled out. Sub-second differences print in ms.
std::string relativeTime(std::int64_t t, std::int64_t ref);

}  // namespace octolaunch::analysis
