#include "agent/hook/utf8_escape.h"

#include <cstdint>
#include <cstring>

#include "shared/util/utf8.h"

namespace octolaunch::agent {

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
    const std::size_t at =
        static_cast<std::size_t>(p - reinterpret_cast<const unsigned char*>(bytes.data()));
    std::size_t n = *p == 0 ? 0 : utf8SequenceLength(bytes, at);
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
