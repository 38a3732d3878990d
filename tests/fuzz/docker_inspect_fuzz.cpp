// GET /containers/{id}/json and GET /images/{id}/json bodies.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/parse/container_events.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::parse;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ContainerFailure failure;
  if (auto inspect = parseContainerInspect(text)) applyInspect(failure, *inspect);
  if (auto digests = parseImageRepoDigests(text)) failure.imageDigests = *digests;
  fuzz::checkContainerFailure(failure);
  return 0;
}
