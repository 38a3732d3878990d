#include "shared/util/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace octolaunch {
namespace {

std::string asJson(std::string_view s) {
  std::string out;
  json_text::appendString(out, s);
  return out;
}

TEST(JsonText, ValidUtf8RoundTripsThroughAJsonParser) {
  static constexpr char kControls[] = "tab\tnewline\nreturn\rbell\x07 nul\0x";  // NUL inside
  for (std::string s :
       {std::string(""), std::string("plain ascii"), std::string("quote \" and \\ backslash"),
        std::string(kControls, sizeof kControls - 1), std::string("del \x7f"),
        std::string("über 日本 😀"), std::string("\xF4\x8F\xBF\xBF")}) {
    auto parsed = nlohmann::json::parse(asJson(s));
    EXPECT_EQ(parsed.get<std::string>(), s) << asJson(s);
  }
  EXPECT_EQ(asJson("a\x01z"), "\"a\\u0001z\"");
  EXPECT_EQ(asJson("\"\\"), R"("\"\\")");
}

TEST(JsonText, IllFormedUtf8BecomesReplacementCharacters) {
  // Lone continuation, overlong, surrogate, above U+10FFFF, truncated sequence at the end.
  EXPECT_EQ(nlohmann::json::parse(asJson("a\x80z")).get<std::string>(), "a\xEF\xBF\xBDz");
  EXPECT_EQ(nlohmann::json::parse(asJson("\xC0\xAF")).get<std::string>(),
            "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(nlohmann::json::parse(asJson("\xED\xA0\x80")).get<std::string>(),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(nlohmann::json::parse(asJson("\xF5\x80")).get<std::string>(),
            "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(nlohmann::json::parse(asJson("ok\xE6\x97")).get<std::string>(),
            "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(JsonText, ArbitraryBytesAlwaysGiveValidJson) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string s(static_cast<std::size_t>(rng() % 40), '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    std::string text = asJson(s);
    EXPECT_TRUE(nlohmann::json::accept(text)) << "round " << round;
  }
}

TEST(JsonText, Numbers) {
  std::string out;
  json_text::appendInt(out, -9223372036854775807LL - 1);
  out.push_back(',');
  json_text::appendUint(out, 18446744073709551615ULL);
  EXPECT_EQ(out, "-9223372036854775808,18446744073709551615");
}

}  // namespace
}  // namespace octolaunch
