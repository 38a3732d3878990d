#include "agent/hook/utf8_escape.h"

#include <cstdint>
#include <cstring>

namespace octolaunch::agent {

namespace {

// Length of the valid UTF-8 sequence starting at p (< end), or 0 when the byte there starts none.
std::size_t validSequence(const unsigned char* p, const unsigned char* end) {
  unsigned char c = p[0];
  std::size_t avail = static_cast<std::size_t>(end - p);
  auto cont = [&](std::size_t i) { return i < avail && (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void appendEscapedUtf8(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    // Fast path: a run of printable-or-control ASCII other than NUL.
    const auto* run = p;
    while (run < end && *run < 0x80 && *run != 0) ++run;
    out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(run - p));
    p = run;
    if (p == end) break;
    std::size_t n = *p == 0 ? 0 : validSequence(p, end);
    if (n > 0) {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    } else {
      char esc[4] = {'\\', 'x', kHex[*p >> 4], kHex[*p & 0xF]};
      out.append(esc, 4);
      ++p;
    }
  }
}

std::size_t utf8SplitPoint(std::string_view bytes, std::size_t limit) {
  if (limit >= bytes.size()) return bytes.size();
  std::size_t cut = limit;
  for (int back = 0; back < 3 && cut > 0; ++back) {
    if ((static_cast<unsigned char>(bytes[cut]) & 0xC0) != 0x80) return cut;
    --cut;
  }
  if ((static_cast<unsigned char>(bytes[cut]) & 0xC0) != 0x80 && cut > 0) return cut;
  return limit;
}

}  // namespace octolaunch::agent
