// cgroup memory.events / memory.oom_control contents.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/parse/memory_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::parse;
  auto parsed = parseMemoryEvents(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)parsed.oomKill();
  (void)parsed.isV1();
  return 0;
}
