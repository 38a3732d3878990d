#include "collector/cli/time_flag.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <limits>

#include "shared/util/clock.h"

namespace octolaunch::cli {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

const char* const kForms =
    "expected a duration such as 30s, 15m, 1h, 2d, 1w, a date such as 2026-03-01, or a time "
    "such as 2026-03-01T12:00:00Z or 2026-03-01T13:00:00+01:00";

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};

TimeFlag failure(std::string_view text, const std::string& why) {
  return {std::nullopt, "\"" + std::string(text) + "\": " + why};
}

bool allDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<std::int64_t> unitNs(char unit) {
  switch (unit) {
    case 's':
      return kSecond;
    case 'm':
      return 60 * kSecond;
    case 'h':
      return 3600 * kSecond;
    case 'd':
      return 86400 * kSecond;
    case 'w':
      return 7 * 86400 * kSecond;
    default:
      return std::nullopt;
  }
}

TimeFlag relative(std::string_view text, std::int64_t nowNs) {
  const std::string_view count = text.substr(0, text.size() - 1);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  const std::int64_t unit = *unitNs(text.back());
  // Bounded to ±146 years around now: the result stays a representable time.
  if (ec != std::errc() || end != count.data() + count.size() ||
      n > std::numeric_limits<std::int64_t>::max() / 2 / unit) {
    return failure(text, "a duration too long to count back from now");
  }
  return {nowNs - n * unit, {}};
}

// The calendar date at the start of text ("YYYY-MM-DD"), checked against the month's length.
std::optional<std::string> impossibleDate(std::string_view text) {
  int year = 0, month = 0, day = 0;
  auto read = [&](std::size_t pos, std::size_t len, int& out) {
    auto r = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == text.data() + pos + len;
  };
  if (!read(0, 4, year) || !read(5, 2, month) || !read(8, 2, day)) return std::nullopt;
  if (month < 1 || month > 12) return "there is no month " + std::to_string(month);
  const int days = daysInMonth(year, month);
  if (day < 1 || day > days) {
    return "not a date: " + std::string(kMonths[month - 1]) + " " + std::to_string(year) + " has " +
           std::to_string(days) + " days";
  }
  return std::nullopt;
}

bool isDate(std::string_view text) {
  return text.size() == 10 && text[4] == '-' && text[7] == '-' && allDigits(text.substr(0, 4)) &&
         allDigits(text.substr(5, 2)) && allDigits(text.substr(8, 2));
}

TimeFlag absolute(std::string_view text) {
  if (auto why = impossibleDate(text)) return failure(text, *why);
  std::string full(text);
  if (isDate(text)) full += "T00:00:00Z";
  // HH:MM without seconds: ISO 8601 allows it, RFC 3339 (and the API) want the seconds.
  if (full.size() >= 16 && full[13] == ':' && (full.size() == 16 || full[16] != ':')) {
    full.insert(16, ":00");
  }
  if (auto ns = parseTimeNs(full)) return {ns, {}};
  const bool hasZone = full.size() > 19 && full.find_first_of("Zz+-", 19) != std::string::npos;
  if (full.size() >= 19 && !hasZone) {
    return failure(text, "add Z (UTC) or an offset such as +01:00; a time zone is not guessed");
  }
  return failure(text, kForms);
}

}  // namespace

TimeFlag parseTimeFlag(std::string_view text, std::int64_t nowNs) {
  if (text.empty()) return failure(text, kForms);
  if (allDigits(text)) {
    auto ns = parseTimeNs(text);
    return ns ? TimeFlag{ns, {}} : failure(text, "too large for nanoseconds since 1970");
  }
  if (text.size() >= 2 && allDigits(text.substr(0, text.size() - 1)) && unitNs(text.back())) {
    return relative(text, nowNs);
  }
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-' && allDigits(text.substr(0, 4))) {
    return absolute(text);
  }
  return failure(text, kForms);
}

void checkTimeFlag(CLI::Option& option) {
  option.type_name("TIME");
  option.check(CLI::Validator([](std::string& value) { return parseTimeFlag(value, 0).error; },
                              "TIME", "time"));
}

std::string timeFlagValue(const std::string& text, std::int64_t nowNs) {
  return formatRfc3339Ns(*parseTimeFlag(text, nowNs).ns);
}

}  // namespace octolaunch::cli
