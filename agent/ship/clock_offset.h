// The collector's clock relative to the agent's, measured as NTP does over the agent's own calls
// (schemas/rpc.capnp, ClockOffset): the agent stamps a call when it sends it (t0, CLOCK_REALTIME),
// the collector answers with when it received the call (t1) and when it answered (t2), and the
// agent reads its clock when the answer arrives (t3).
//
//   offset    = ((t1 - t0) + (t2 - t3)) / 2   collector clock minus agent clock
//   roundTrip = (t3 - t0) - (t2 - t1)         time on the wire; the offset is good to +- half of it
//
// Only the call's own stamps count: how long its events waited in the spool (an outage) does not.
// Threads: ClockOffsetEstimate is used by one thread (the shipper's).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace octolaunch::agent {

struct ClockSample {
  std::int64_t offsetNs = 0;
  std::int64_t roundTripNs = 0;
  bool operator==(const ClockSample&) const = default;
};

// One sample from one call's four stamps. nullopt when the collector stamped nothing
// (collectorReceiveNs == 0: a collector older than the clock exchange) or when the stamps cannot
// be one call's (a negative round trip: a clock was stepped during the call; results beyond
// int64: a collector's garbage).
std::optional<ClockSample> clockSample(std::int64_t agentSendNs, std::int64_t collectorReceiveNs,
                                       std::int64_t collectorSendNs, std::int64_t agentReceiveNs);

// The recent samples and the best of them: the one with the least round trip, whose offset has
// the smallest error bound.
class ClockOffsetEstimate final {
 public:
  static constexpr std::size_t kRecentSamples = 8;

  // Keeps the sample among the last kRecentSamples (the oldest is forgotten).
  void add(const ClockSample& sample);
  // The recent sample with the least round trip (the newest of equals); nullopt before the first.
  std::optional<ClockSample> best() const;

 private:
  std::array<ClockSample, kRecentSamples> recent_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
};

}  // namespace octolaunch::agent
