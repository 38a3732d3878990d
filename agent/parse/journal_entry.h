// One systemd journal entry as a field map, from `journalctl -o json` text or from sd-journal.
// Pure: no I/O; never throws on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace octolaunch::parse {

// Field name -> value bytes (may be non-UTF-8). A field the journal holds several times keeps its
// first value.
using JournalFields = std::unordered_map<std::string, std::string>;

struct JournalEntry {
  JournalFields fields;

  // The value, or nullopt when the field is absent.
  std::optional<std::string_view> get(std::string_view name) const;
  // The value, or "" when absent.
  std::string_view value(std::string_view name) const;
  // __REALTIME_TIMESTAMP (microseconds since the Unix epoch), 0 when absent, malformed or past
  // 2200.
  std::int64_t realtimeUsec() const;
};

// One line of `journalctl -o json` (or json-seq without its RS byte). Field values may be JSON
// strings, numbers, null (dropped), byte arrays (non-UTF-8 values, decoded to bytes) or arrays of
// those (repeated fields: first kept). Returns nullopt (and sets *error when given) for text that
// is not a JSON object.
std::optional<JournalEntry> parseJournalJson(std::string_view line, std::string* error = nullptr);

}  // namespace octolaunch::parse
