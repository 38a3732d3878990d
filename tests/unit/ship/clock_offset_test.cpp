// The NTP arithmetic of the clock exchange with fixed stamps, and the choice of the best sample.
#include "agent/ship/clock_offset.h"

#include <gtest/gtest.h>

#include <limits>

namespace octolaunch::agent {
namespace {

constexpr std::int64_t kMsInNs = 1'000'000;
constexpr std::int64_t kT0 = 1'800'000'000'000'000'000;  // the agent sends (2027)

TEST(ClockSample, CollectorAheadSymmetricPath) {
  // Collector 5 s ahead; 1 ms each way; it takes 2 ms to answer.
  const std::int64_t ahead = 5000 * kMsInNs;
  auto s =
      clockSample(kT0, kT0 + 1 * kMsInNs + ahead, kT0 + 3 * kMsInNs + ahead, kT0 + 4 * kMsInNs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->offsetNs, ahead);
  EXPECT_EQ(s->roundTripNs, 2 * kMsInNs);
}

TEST(ClockSample, CollectorBehindGivesANegativeOffset) {
  // Collector 2.5 s behind; 40 ms each way; answers in 10 ms.
  const std::int64_t behind = -2500 * kMsInNs;
  auto s = clockSample(kT0, kT0 + 40 * kMsInNs + behind, kT0 + 50 * kMsInNs + behind,
                       kT0 + 90 * kMsInNs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->offsetNs, -2500 * kMsInNs);
  EXPECT_EQ(s->roundTripNs, 80 * kMsInNs);
}

TEST(ClockSample, AnAsymmetricPathErrsByAtMostHalfTheRoundTrip) {
  // Same clocks; 30 ms out, 10 ms back: the error is half the difference, inside the bound.
  auto s = clockSample(kT0, kT0 + 30 * kMsInNs, kT0 + 30 * kMsInNs, kT0 + 40 * kMsInNs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->offsetNs, 10 * kMsInNs);
  EXPECT_EQ(s->roundTripNs, 40 * kMsInNs);
  EXPECT_LE(s->offsetNs, s->roundTripNs / 2);
}

TEST(ClockSample, AnOutageDoesNotCount) {
  // A push sent after an hour's outage carries events an hour old; its stamps are the push's
  // own, so the sample is the one a push without the outage gives.
  const std::int64_t hour = 3600 * 1000 * kMsInNs;
  const std::int64_t ahead = 700 * kMsInNs;
  auto before =
      clockSample(kT0, kT0 + 5 * kMsInNs + ahead, kT0 + 6 * kMsInNs + ahead, kT0 + 11 * kMsInNs);
  const std::int64_t t0 = kT0 + hour;
  auto after =
      clockSample(t0, t0 + 5 * kMsInNs + ahead, t0 + 6 * kMsInNs + ahead, t0 + 11 * kMsInNs);
  ASSERT_TRUE(before && after);
  EXPECT_EQ(*after, *before);
  EXPECT_EQ(after->offsetNs, ahead);
  EXPECT_EQ(after->roundTripNs, 10 * kMsInNs);
}

TEST(ClockSample, AnOlderCollectorsUnstampedAnswerGivesNone) {
  EXPECT_FALSE(clockSample(kT0, 0, 0, kT0 + kMsInNs));
}

TEST(ClockSample, StampsNoCallCanHaveGiveNone) {
  // The collector claims it worked longer than the whole round trip (a clock stepped).
  EXPECT_FALSE(clockSample(kT0, kT0, kT0 + 10 * kMsInNs, kT0 + 4 * kMsInNs));
  // Garbage from a peer: nothing overflows, nothing is believed.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_FALSE(clockSample(kT0, kMin, kMax, kT0 + kMsInNs));
  EXPECT_FALSE(clockSample(kMin + 1, kMax, kMax, kMin + 1));  // an offset past int64
}

TEST(ClockOffsetEstimate, NoneBeforeTheFirstSample) {
  ClockOffsetEstimate estimate;
  EXPECT_FALSE(estimate.best());
}

TEST(ClockOffsetEstimate, TheBestIsTheRecentSampleWithTheLeastRoundTrip) {
  ClockOffsetEstimate estimate;
  estimate.add({100 * kMsInNs, 30 * kMsInNs});
  estimate.add({7 * kMsInNs, 2 * kMsInNs});  // the best
  estimate.add({-40 * kMsInNs, 90 * kMsInNs});
  EXPECT_EQ(estimate.best(), (ClockSample{7 * kMsInNs, 2 * kMsInNs}));
  estimate.add({8 * kMsInNs, 2 * kMsInNs});  // as good and newer
  EXPECT_EQ(estimate.best(), (ClockSample{8 * kMsInNs, 2 * kMsInNs}));
}

TEST(ClockOffsetEstimate, AnOldBestIsForgottenAfterTheRecentSamples) {
  ClockOffsetEstimate estimate;
  estimate.add({1 * kMsInNs, 1 * kMsInNs});
  for (std::size_t i = 1; i < ClockOffsetEstimate::kRecentSamples; ++i)
    estimate.add({static_cast<std::int64_t>(i) * kMsInNs, 50 * kMsInNs});
  EXPECT_EQ(estimate.best(), (ClockSample{1 * kMsInNs, 1 * kMsInNs}));
  estimate.add({-3 * kMsInNs, 60 * kMsInNs});  // pushes the first out
  EXPECT_EQ(estimate.best(), (ClockSample{7 * kMsInNs, 50 * kMsInNs}));
}

}  // namespace
}  // namespace octolaunch::agent
