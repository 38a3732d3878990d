#include "collector/cli/time_flag.h"

#include <gtest/gtest.h>

namespace octolaunch::cli {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
// 2026-03-01T12:00:00Z
constexpr std::int64_t kNow = 1'772'366'400 * kSecond;

std::int64_t at(std::string_view text) {
  const TimeFlag t = parseTimeFlag(text, kNow);
  EXPECT_TRUE(t.ns) << text << ": " << t.error;
  return t.ns.value_or(-1);
}

std::string errorOf(std::string_view text) {
  const TimeFlag t = parseTimeFlag(text, kNow);
  EXPECT_FALSE(t.ns) << text;
  return t.error;
}

TEST(TimeFlag, RelativeTimesCountBackFromNow) {
  EXPECT_EQ(at("30s"), kNow - 30 * kSecond);
  EXPECT_EQ(at("15m"), kNow - 15 * 60 * kSecond);
  EXPECT_EQ(at("1h"), kNow - 3600 * kSecond);
  EXPECT_EQ(at("2d"), kNow - 2 * 86400 * kSecond);
  EXPECT_EQ(at("1w"), kNow - 7 * 86400 * kSecond);
  EXPECT_EQ(at("0s"), kNow);
  EXPECT_NE(errorOf("1y").find("expected a duration"), std::string::npos);
  EXPECT_NE(errorOf("h").find("expected a duration"), std::string::npos);
  EXPECT_NE(errorOf("-1h").find("expected a duration"), std::string::npos);
  EXPECT_NE(errorOf("99999999999999d").find("too long"), std::string::npos);
}

TEST(TimeFlag, AbsoluteTimesInUtcOrWithAnOffset) {
  EXPECT_EQ(at("2026-03-01T12:00:00Z"), kNow);
  EXPECT_EQ(at("2026-03-01T13:00:00+01:00"), kNow);
  EXPECT_EQ(at("2026-03-01T07:30:00-04:30"), kNow);
  EXPECT_EQ(at("2026-03-01T12:00:00.25Z"), kNow + kSecond / 4);
  EXPECT_EQ(at("2026-03-01T12:00Z"), kNow);  // ISO 8601 without seconds
  EXPECT_EQ(at("2026-03-01T13:00+01:00"), kNow);
  EXPECT_EQ(at("2026-03-01"), kNow - 12 * 3600 * kSecond);  // a date: midnight UTC
  EXPECT_EQ(at("1772366400000000000"), kNow);               // the API's integer nanoseconds
}

TEST(TimeFlag, ImpossibleDatesAreRefusedSayingWhy) {
  EXPECT_EQ(errorOf("2026-02-30"), "\"2026-02-30\": not a date: February 2026 has 28 days");
  EXPECT_EQ(errorOf("2026-02-29T10:00:00Z"),
            "\"2026-02-29T10:00:00Z\": not a date: February 2026 has 28 days");
  EXPECT_EQ(errorOf("2026-04-31"), "\"2026-04-31\": not a date: April 2026 has 30 days");
  EXPECT_EQ(errorOf("2026-13-01"), "\"2026-13-01\": there is no month 13");
  EXPECT_NE(errorOf("2026-01-00").find("January 2026 has 31 days"), std::string::npos);
  EXPECT_NE(errorOf("2026-03-01T25:00:00Z").find("expected"), std::string::npos);
}

TEST(TimeFlag, LeapYears) {
  EXPECT_EQ(at("2024-02-29"), at("2024-03-01") - 86400 * kSecond);
  EXPECT_EQ(at("2000-02-29T00:00:00Z"), 951'782'400 * kSecond);  // every 400th year
  EXPECT_EQ(errorOf("1900-02-29"), "\"1900-02-29\": not a date: February 1900 has 28 days");
  EXPECT_EQ(errorOf("2100-02-29"), "\"2100-02-29\": not a date: February 2100 has 28 days");
}

TEST(TimeFlag, ATimeWithoutAZoneIsNotGuessed) {
  EXPECT_NE(errorOf("2026-03-01T12:00:00").find("add Z (UTC) or an offset"), std::string::npos);
  EXPECT_NE(errorOf("2026-03-01T12:00").find("add Z (UTC) or an offset"), std::string::npos);
  EXPECT_NE(errorOf("yesterday").find("expected a duration such as 30s"), std::string::npos);
  EXPECT_NE(errorOf("").find("expected"), std::string::npos);
  EXPECT_NE(errorOf("2026-03-01T12:00:00+1").find("expected"), std::string::npos);
}

TEST(TimeFlag, TheApiGetsRfc3339) {
  EXPECT_EQ(timeFlagValue("1h", kNow), "2026-03-01T11:00:00.000000000Z");
  EXPECT_EQ(timeFlagValue("2026-03-01T13:00:00+01:00", kNow), "2026-03-01T12:00:00.000000000Z");
}

}  // namespace
}  // namespace octolaunch::cli
