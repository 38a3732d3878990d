// The one parser of the CLI's time flags (--since, --until of every command). Accepted:
//   relative  a count and a unit, that long before now: 30s, 15m, 1h, 2d, 1w
//   absolute  an RFC 3339 / ISO 8601 time with Z or an offset: 2026-03-01T12:00:00Z,
//             2026-03-01T13:00:00.5+01:00, 2026-03-01T12:00Z (seconds optional);
//             a date alone, 2026-03-01, is its midnight UTC
//   integer   nanoseconds since the Unix epoch, as the HTTP API takes them
// A time without a zone is refused rather than guessed, and so is a day its month does not have
// (2026-02-30), with a message that says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class Option;
}

namespace octolaunch::cli {

struct TimeFlag {
  std::optional<std::int64_t> ns;  // set when the text is a time
  std::string error;               // why not, when ns is empty
};

// nowNs: the wall clock that relative times count back from.
TimeFlag parseTimeFlag(std::string_view text, std::int64_t nowNs);

// Makes option a time flag: a value parseTimeFlag() refuses is a usage error naming the option.
void checkTimeFlag(CLI::Option& option);

// text resolved against nowNs as RFC 3339 for the API. Only for text that passed checkTimeFlag.
std::string timeFlagValue(const std::string& text, std::int64_t nowNs);

}  // namespace octolaunch::cli
