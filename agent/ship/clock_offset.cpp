#include "agent/ship/clock_offset.h"

#include <limits>

namespace octolaunch::agent {

std::optional<ClockSample> clockSample(std::int64_t agentSendNs, std::int64_t collectorReceiveNs,
                                       std::int64_t collectorSendNs, std::int64_t agentReceiveNs) {
  if (collectorReceiveNs == 0) return std::nullopt;
  // The collector's stamps are a peer's input: computed wide, so no value can overflow.
  using Wide = __int128;
  const Wide outbound = Wide{collectorReceiveNs} - agentSendNs;
  const Wide inbound = Wide{collectorSendNs} - agentReceiveNs;
  const Wide roundTrip =
      (Wide{agentReceiveNs} - agentSendNs) - (Wide{collectorSendNs} - collectorReceiveNs);
  const Wide offset = (outbound + inbound) / 2;
  constexpr Wide kMax = std::numeric_limits<std::int64_t>::max();
  if (roundTrip < 0 || roundTrip > kMax || offset > kMax || offset < -kMax) return std::nullopt;
  return ClockSample{static_cast<std::int64_t>(offset), static_cast<std::int64_t>(roundTrip)};
}

void ClockOffsetEstimate::add(const ClockSample& sample) {
  recent_[next_] = sample;
  next_ = (next_ + 1) % kRecentSamples;
  if (count_ < kRecentSamples) ++count_;
}

std::optional<ClockSample> ClockOffsetEstimate::best() const {
  // From the newest back, so that the newest of equal round trips wins.
  std::optional<ClockSample> best;
  for (std::size_t i = 1; i <= count_; ++i) {
    const ClockSample& s = recent_[(next_ + kRecentSamples - i) % kRecentSamples];
    if (!best || s.roundTripNs < best->roundTripNs) best = s;
  }
  return best;
}

}  // namespace octolaunch::agent
