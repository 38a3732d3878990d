// /proc/sys/fs/file-nr: the system-wide file handle table. Pure; never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace octolaunch::sources {

struct FileNr {
  std::uint64_t allocated = 0;
  std::uint64_t unused = 0;
  std::uint64_t max = 0;
};

// "487\t0\t2466160\n" -> {487, 0, 2466160}; nullopt unless three numbers.
std::optional<FileNr> parseFileNr(std::string_view text);

}  // namespace octolaunch::sources
