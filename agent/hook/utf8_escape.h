// Making arbitrary bytes safe to store as Cap'n Proto Text (which must be UTF-8).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace octolaunch::agent {

// Appends `bytes` to `out`, copying valid UTF-8 as is and writing every byte that is not part of
// a valid UTF-8 sequence (including overlong forms, surrogates, > U+10FFFF, NUL) as the four
// characters \xNN (lower-case hex). Never fails, never drops a byte. A literal backslash is kept
// as is, so the escaping is for reading, not a reversible encoding.
void appendEscapedUtf8(std::string& out, std::string_view bytes);

// Largest n <= limit such that bytes[0, n) does not end inside a UTF-8 sequence (as long as the
// cut can move back at most 3 bytes; otherwise limit). For splitting long lines between
// characters.
std::size_t utf8SplitPoint(std::string_view bytes, std::size_t limit);

}  // namespace octolaunch::agent
