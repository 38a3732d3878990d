// Parsing untrusted JSON text into an object without exceptions and without deep recursion
// (internal to agent/parse).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace octolaunch::parse {

// The JSON object in text, or nullopt (and *error set when given) for anything else: invalid JSON,
// another JSON type, or nesting deeper than 32 levels.
std::optional<nlohmann::json> parseJsonObject(std::string_view text, std::string* error);
// The same for a JSON array.
std::optional<nlohmann::json> parseJsonArray(std::string_view text, std::string* error);

}  // namespace octolaunch::parse
