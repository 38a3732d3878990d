// Writing JSON text directly into a string, for the large answers (a release timeline of tens of
// thousands of events) where building an nlohmann::json tree first costs more than the analysis.
//
// Strings are escaped as JSON requires ('"', '\\', control characters); bytes that are not valid
// UTF-8 become U+FFFD, as nlohmann::json's dump(error_handler_t::replace) does, so a reader always
// gets valid JSON whichever writer produced it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace octolaunch::json_text {

// Appends "s" (with the quotes).
void appendString(std::string& out, std::string_view s);
// Appends "key": (with the colon).
void appendKey(std::string& out, std::string_view key);
void appendInt(std::string& out, std::int64_t value);
void appendUint(std::string& out, std::uint64_t value);

}  // namespace octolaunch::json_text
