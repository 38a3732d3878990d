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

TEST(Clock, RejectsDaysTheMonthDoesNotHave) {
  EXPECT_FALSE(parseTimeNs("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parseTimeNs("2026-02-29T00:00:00Z"));
  EXPECT_FALSE(parseTimeNs("2026-04-31T00:00:00Z"));
  EXPECT_FALSE(parseTimeNs("1900-02-29T00:00:00Z"));  // every 100th year is not a leap year
  EXPECT_EQ(parseTimeNs("2000-02-29T00:00:00Z"), 951'782'400'000'000'000);  // every 400th is
  EXPECT_EQ(parseTimeNs("2028-02-29T00:00:00Z"), 1'835'395'200'000'000'000);
  EXPECT_EQ(daysInMonth(2026, 2), 28);
  EXPECT_EQ(daysInMonth(2024, 2), 29);
  EXPECT_EQ(daysInMonth(2026, 12), 31);
  EXPECT_EQ(daysInMonth(2026, 13), 0);
}

}  // namespace
}  // namespace octolaunch
