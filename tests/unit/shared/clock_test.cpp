#include "shared/util/clock.h"

#include <gtest/gtest.h>

namespace octolaunch {
namespace {

TEST(Clock, FormatsAndParsesRfc3339WithNanoseconds) {
  std::int64_t ns = 1'764'310'354'123'456'789;
  std::string text = formatRfc3339Ns(ns);
  EXPECT_EQ(text, "2025-11-28T06:12:34.123456789Z");
  EXPECT_EQ(parseTimeNs(text), ns);
}

TEST(Clock, ParsesOffsetsIntegersAndRejectsJunk) {
  EXPECT_EQ(parseTimeNs("2025-11-28T07:12:34+01:00"), 1'764'310'354'000'000'000);
  EXPECT_EQ(parseTimeNs("1764310354000000000"), 1'764'310'354'000'000'000);
  EXPECT_EQ(parseTimeNs("2025-11-28T06:12:34.5Z"), 1'764'310'354'500'000'000);
  EXPECT_FALSE(parseTimeNs("yesterday"));
  EXPECT_FALSE(parseTimeNs("2025-13-28T06:12:34Z"));
  EXPECT_FALSE(parseTimeNs("2025-11-28T06:12:34"));
  EXPECT_FALSE(parseTimeNs(""));
}

}  // namespace
}  // namespace octolaunch
