// Docker Engine / podman event JSON lines -> ContainerEvent -> ContainerEventTracker.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/parse/container_events.h"
#include "agent/parse/text_util.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::parse;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ContainerEventTracker tracker(4);
  for (auto line : splitLines(text)) {
    std::string error;
    auto event = parseContainerEvent(line, &error);
    if (!event) continue;
    if (auto failure = tracker.feed(*event)) fuzz::checkContainerFailure(*failure);
  }
  return 0;
}
