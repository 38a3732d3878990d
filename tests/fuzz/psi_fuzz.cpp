// /proc/pressure/* file contents (and file names).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/parse/psi.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::parse;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parsePsi(text, psiResourceFromPath(text));
  for (const auto& s : parsed.samples) {
    if (!std::isfinite(s.avg10) || !std::isfinite(s.avg60) || !std::isfinite(s.avg300))
      std::abort();
    if (s.line != "some" && s.line != "full") std::abort();
  }
  return 0;
}
