// Small string helpers shared by the parsers (internal to agent/parse). Pure; never throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::parse {

std::string_view trim(std::string_view s);
bool startsWith(std::string_view s, std::string_view prefix);
bool endsWith(std::string_view s, std::string_view suffix);

// Splits on '\n' (a trailing '\r' is dropped from each line); no empty last element for a final
// '\n'.
std::vector<std::string_view> splitLines(std::string_view text);

// Decimal digits only (no sign, no spaces); nullopt on overflow or anything else.
std::optional<std::uint64_t> parseU64(std::string_view s);
// Optional leading '-', then decimal digits; nullopt when out of int32 range.
std::optional<std::int32_t> parseI32(std::string_view s);
// How many decimal digits s starts with ("123kB" -> 3).
std::size_t leadingDigitCount(std::string_view s);
// Leading digits of s ("123kB" -> 123); nullopt when s does not start with a digit.
std::optional<std::uint64_t> leadingU64(std::string_view s);

// Valid UTF-8 unchanged; every byte that is not part of a valid sequence becomes "\xNN".
std::string sanitizeUtf8(std::string_view s);

}  // namespace octolaunch::parse

namespace octolaunch::parse {

// False when JSON text nests arrays/objects deeper than maxDepth (checked outside strings), so a
// recursive parser is never handed input that could exhaust the stack.
bool jsonDepthWithin(std::string_view text, int maxDepth);

}  // namespace octolaunch::parse
