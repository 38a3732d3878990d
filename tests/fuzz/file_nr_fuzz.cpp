// /proc/sys/fs/file-nr contents: the fd source's three numbers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/disk/file_nr.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto nr =
      octolaunch::sources::parseFileNr(std::string_view(reinterpret_cast<const char*>(data), size));
  if (nr && nr->max > 0) {
    volatile double percent =
        100.0 * static_cast<double>(nr->allocated) / static_cast<double>(nr->max);
    (void)percent;
  }
  return 0;
}
