// /proc/self/mountinfo contents: the disk source's view of which filesystems to watch.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/sources/disk/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::sources;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& m : parseMountinfo(text)) {
    if (m.mountPoint.empty() || m.fsType.empty()) std::abort();  // well-formed lines only
    if (isWatchedFilesystem(m, false) && !isWatchedFilesystem(m, true)) std::abort();
  }
  return 0;
}
