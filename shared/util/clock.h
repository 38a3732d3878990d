// Time as the rest of the code sees it: UTC nanoseconds since the Unix epoch, behind an interface
// so tests can inject time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace octolaunch {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, UTC nanoseconds since the Unix epoch.
  virtual std::int64_t nowNs() const = 0;
  // Monotonic nanoseconds, for durations.
  virtual std::int64_t monotonicNs() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t nowNs() const override;
  std::int64_t monotonicNs() const override;
};

// "2026-11-28T06:12:34.123456789Z"
std::string formatRfc3339Ns(std::int64_t ns);
// Accepts RFC 3339 (fraction optional, 'Z' or +hh:mm offset) or an integer of nanoseconds. A day
// the month does not have (2026-02-30) is rejected, not rolled over into the next month.
std::optional<std::int64_t> parseTimeNs(std::string_view text);
// 28 to 31 for month 1..12 of the Gregorian year (leap years: every 4th, not every 100th, every
// 400th); 0 for a month out of range.
int daysInMonth(int year, int month);

}  // namespace octolaunch
