#include "agent/parse/journal_entry.h"

#include <nlohmann/json.hpp>

#include "agent/parse/json_object.h"
#include "agent/parse/text_util.h"

namespace octolaunch::parse {

using nlohmann::json;

std::optional<std::string_view> JournalEntry::get(std::string_view name) const {
  auto it = fields.find(std::string(name));
  if (it == fields.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string_view JournalEntry::value(std::string_view name) const { return get(name).value_or(""); }

std::int64_t JournalEntry::realtimeUsec() const {
  // Anything past the year 2200 is malformed (and would overflow nanoseconds).
  constexpr std::uint64_t kMaxUsec = 7'258'118'400'000'000;
  auto v = parseU64(value("__REALTIME_TIMESTAMP"));
  if (!v || *v > kMaxUsec) return 0;
  return static_cast<std::int64_t>(*v);
}

namespace {

// A journal field value: string, number, byte array. nullopt for anything else.
std::optional<std::string> scalarValue(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number_float()) return v.dump();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    // A byte array (non-UTF-8 value): every element an integer 0..255.
    std::string bytes;
    for (const auto& b : v) {
      if (!b.is_number_integer()) return std::nullopt;
      auto n = b.get<std::int64_t>();
      if (n < 0 || n > 255) return std::nullopt;
      bytes.push_back(static_cast<char>(n));
    }
    return bytes;
  }
  return std::nullopt;
}

}  // namespace

std::optional<JournalEntry> parseJournalJson(std::string_view line, std::string* error) {
  if (!line.empty() && line.front() == '\x1e') line.remove_prefix(1);  // json-seq record separator
  line = trim(line);
  if (line.empty()) {
    if (error) *error = "empty line";
    return std::nullopt;
  }
  auto doc = parseJsonObject(line, error);
  if (!doc) return std::nullopt;
  JournalEntry entry;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    const json& v = it.value();
    std::optional<std::string> value;
    if (v.is_array() && !v.empty() && !v.front().is_number_integer()) {
      // A repeated field: [ "a", "b" ] or [ [bytes], [bytes] ]. Keep the first.
      value = scalarValue(v.front());
    } else {
      value = scalarValue(v);
    }
    if (value) entry.fields.emplace(it.key(), std::move(*value));
  }
  return entry;
}

}  // namespace octolaunch::parse
