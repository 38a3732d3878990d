// UTF-8 well-formedness, the one definition every writer of Text and JSON uses (Unicode table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace octolaunch {

// Length of the well-formed UTF-8 sequence starting at s[i] (1 for any ASCII byte, NUL included),
// or 0 when the byte there starts none (a truncated sequence at the end included). i < s.size().
inline std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  auto continuation = [&](std::size_t k) { return (at(k) & 0xC0u) == 0x80u; };
  const unsigned c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return continuation(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80,
                   hi = c == 0xED ? 0x9F : 0xBF;  // overlong, surrogates
    return at(1) >= lo && at(1) <= hi && continuation(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80,
                   hi = c == 0xF4 ? 0x8F : 0xBF;  // overlong, > U+10FFFF
    return at(1) >= lo && at(1) <= hi && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// Whether the whole of s is well-formed UTF-8 (a NUL byte is).
inline bool isValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace octolaunch
