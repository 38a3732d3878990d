#include "agent/parse/memory_events.h"

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

std::optional<std::uint64_t> MemoryEvents::get(std::string_view key) const {
  for (const auto& [k, v] : counters) {
    if (k == key) return v;
  }
  return std::nullopt;
}

MemoryEvents parseMemoryEvents(std::string_view text) {
  MemoryEvents out;
  for (auto line : splitLines(text)) {
    line = trim(line);
    if (line.empty()) continue;
    auto sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      ++out.skipped;
      continue;
    }
    std::string_view key = line.substr(0, sp);
    auto value = parseU64(trim(line.substr(sp + 1)));
    bool keyOk = !key.empty() && key.size() <= 64;
    for (char c : key) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) keyOk = false;
    }
    if (!value || !keyOk) {
      ++out.skipped;
      continue;
    }
    out.counters.emplace_back(std::string(key), *value);
  }
  return out;
}

}  // namespace octolaunch::parse
