// The NTP arithmetic of the clock exchange with fixed stamps, and the choice of the best sample.
#include "agent/ship/clock_offset.h"

#include <gtest/gtest.h>

#include <limits>

namespace octolaunch::agent {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kT0 = 1'800'000'000'000'000'000;  // the agent sends (2027)

TEST(ClockSample, CollectorAheadSymmetricPath) {
  // Collector 5 s ahead; 1 ms each way; it takes 2 ms to answer.
  const std::int64_t ahead = 5000 * kMs;
  auto s = clockSample(kT0, kT0 + 1 * kMs + ahead, kT0 + 3 * kMs + ahead, kT0 + 4 * kMs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->offsetNs, ahead);
  EXPECT_EQ(s->roundTripNs, 2 * kMs);
}

TEST(ClockSample, CollectorBehindGivesANegativeOffset) {
  // Collector 2.5 s behind; 40 ms each way; answers in 10 ms.
  const std::int64_t behind = -2500 * kMs;
  auto s = clockSample(kT0, kT0 + 40 * kMs + behind, kT0 + 50 * kMs + behind, kT0 + 90 * kMs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->offsetNs, -2500 * kMs);
  EXPECT_EQ(s->roundTripNs, 80 * kMs);
}

TEST(ClockSample, AnAsymmetricPathErrsByAtMostHalfTheRoundTrip) {
  // Same clocks; 30 ms out, 10 ms back: the error is half the difference, inside the bound.
  auto s = clockSample(kT0, kT0 + 30 * kMs, kT0 + 30 * kMs, kT0 + 40 * kMs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->offsetNs, 10 * kMs);
  EXPECT_EQ(s->roundTripNs, 40 * kMs);
  EXPECT_LE(s->offsetNs, s->roundTripNs / 2);
}

TEST(ClockSample, AnOutageDoesNotCount) {
  // A push sent after an hour's outage carries events an hour old; its stamps are the push's
  // own, so the sample is the one a push without the outage gives.
  const std::int64_t hour = 3600 * 1000 * kMs;
  const std::int64_t ahead = 700 * kMs;
  auto before = clockSample(kT0, kT0 + 5 * kMs + ahead, kT0 + 6 * kMs + ahead, kT0 + 11 * kMs);
  const std::int64_t t0 = kT0 + hour;
  auto after = clockSample(t0, t0 + 5 * kMs + ahead, t0 + 6 * kMs + ahead, t0 + 11 * kMs);
  ASSERT_TRUE(before && after);
  EXPECT_EQ(*after, *before);
  EXPECT_EQ(after->offsetNs, ahead);
  EXPECT_EQ(after->roundTripNs, 10 * kMs);
}

TEST(ClockSample, AnOlderCollectorsUnstampedAnswerGivesNone) {
  EXPECT_FALSE(clockSample(kT0, 0, 0, kT0 + kMs));
}

TEST(ClockSample, StampsNoCallCanHaveGiveNone) {
  // The collector claims it worked longer than the whole round trip (a clock stepped).
  EXPECT_FALSE(clockSample(kT0, kT0, kT0 + 10 * kMs, kT0 + 4 * kMs));
  // Garbage from a peer: nothing overflows, nothing is believed.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_FALSE(clockSample(kT0, kMin, kMax, kT0 + kMs));
  EXPECT_FALSE(clockSample(kMin + 1, kMax, kMax, kMin + 1));  // an offset past int64
}

TEST(ClockOffsetEstimate, NoneBeforeTheFirstSample) {
  ClockOffsetEstimate estimate;
  EXPECT_FALSE(estimate.best());
}

TEST(ClockOffsetEstimate, TheBestIsTheRecentSampleWithTheLeastRoundTrip) {
  ClockOffsetEstimate estimate;
  estimate.add({100 * kMs, 30 * kMs});
  estimate.add({7 * kMs, 2 * kMs});  // the best
  estimate.add({-40 * kMs, 90 * kMs});
  EXPECT_EQ(estimate.best(), (ClockSample{7 * kMs, 2 * kMs}));
  estimate.add({8 * kMs, 2 * kMs});  // as good and newer
  EXPECT_EQ(estimate.best(), (ClockSample{8 * kMs, 2 * kMs}));
}

TEST(ClockOffsetEstimate, AnOldBestIsForgottenAfterTheRecentSamples) {
  ClockOffsetEstimate estimate;
  estimate.add({1 * kMs, 1 * kMs});
  for (std::size_t i = 1; i < ClockOffsetEstimate::kRecentSamples; ++i)
    estimate.add({static_cast<std::int64_t>(i) * kMs, 50 * kMs});
  EXPECT_EQ(estimate.best(), (ClockSample{1 * kMs, 1 * kMs}));
  estimate.add({-3 * kMs, 60 * kMs});  // pushes the first out
  EXPECT_EQ(estimate.best(), (ClockSample{7 * kMs, 50 * kMs}));
}

}  // namespace
}  // namespace octolaunch::agent
