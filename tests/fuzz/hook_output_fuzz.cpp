// Bytes a deploy step prints: the hook recorder escapes them into UTF-8 Text and splits long lines
// between characters. Checks: the result is always valid UTF-8 without NUL, every input byte is
// accounted for, and a split point never passes its limit.
#include "agent/hook/utf8_escape.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Length of the well-formed UTF-8 sequence at s[i], 0 if there is none (Unicode table 3-7).
std::size_t sequenceAt(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [&](std::size_t k) { return (at(k) & 0xC0u) == 0x80u; };
  const unsigned c = at(0);
  if (c >= 0x01 && c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return at(1) >= lo && at(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return at(1) >= lo && at(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

bool validUtf8WithoutNul(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequenceAt(s, i);
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
