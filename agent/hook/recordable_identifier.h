// The identifiers `hook` and `deploy` take on the command line (--release, --service, --phase),
// made into what the collector stores: a value it would refuse (shared/event/identifier.h) must
// neither fail the deploy nor block the agent's delivery, so it is changed visibly instead.
//
// Threads: any.
#pragma once

#include <string>
#include <string_view>

namespace octolaunch::agent {

// Ends an identifier that was cut to fit; counted within kMaxIdentifierBytes.
inline constexpr std::string_view kTruncatedMarker = "\u2026[truncated]";

struct RecordableIdentifier {
  std::string value;       // valid UTF-8 without NUL, at most kMaxIdentifierBytes
  bool escaped = false;    // bytes that were not UTF-8 (or NUL) are written as \xNN
  bool truncated = false;  // cut on a character boundary and ended with kTruncatedMarker
};

// Never fails; a value that is fine comes back unchanged.
RecordableIdentifier recordableIdentifier(std::string_view raw);

// recordableIdentifier(raw).value; when that differs from raw, first one warning on stderr naming
// `flag` and what was changed (fail_safe.h's warnOnStderr).
std::string recordableIdentifierOrWarn(std::string_view flag, std::string_view raw);

}  // namespace octolaunch::agent
