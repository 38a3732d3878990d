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
// Accepts RFC 3339 (fraction optional, 'Z' or +hh:mm offset) or an integer of nanoseconds.
std::optional<std::int64_t> parseTimeNs(std::string_view text);

}  // namespace octolaunch
