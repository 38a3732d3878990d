// Bytes a deploy step prints: the hook recorder escapes them into UTF-8 Text and splits long lines
// between characters. Checks: the result is always valid UTF-8 without NUL, every input byte is
// accounted for, and a split point never passes its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/hook/utf8_escape.h"
#include "shared/util/utf8.h"

namespace {

bool validUtf8WithoutNul(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '\0') return false;
    const std::size_t n = octolaunch::utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::agent;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string out = "prefix ";
  appendEscapedUtf8(out, bytes);
  std::string_view escaped = std::string_view(out).substr(7);
  if (!validUtf8WithoutNul(escaped)) std::abort();
  if (escaped.size() < size || escaped.size() > 4 * size) std::abort();  // nothing dropped
  const std::size_t limit = size == 0 ? 0 : data[0] % (size + 1);
  if (utf8SplitPoint(bytes, limit) > limit) std::abort();
  return 0;
}
