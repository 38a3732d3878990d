#include "agent/sources/disk/file_nr.h"

#include <charconv>

namespace octolaunch::sources {

std::optional<FileNr> parseFileNr(std::string_view text) {
  std::uint64_t values[3] = {0, 0, 0};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (auto& value : values) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc()) return std::nullopt;
    p = next;
  }
  return FileNr{values[0], values[1], values[2]};
}

}  // namespace octolaunch::sources
