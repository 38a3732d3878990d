#include "agent/parse/json_object.h"

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

std::optional<nlohmann::json> parseJsonOf(std::string_view text, std::string* error, bool array) {
  if (!jsonDepthWithin(text, 32)) {
    if (error) *error = "JSON nested too deeply";
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (array ? !doc.is_array() : !doc.is_object()) {
    if (error)
      *error = doc.is_discarded() ? "not JSON" : array ? "not a JSON array" : "not a JSON object";
    return std::nullopt;
  }
  return doc;
}

}  // namespace

std::optional<nlohmann::json> parseJsonObject(std::string_view text, std::string* error) {
  return parseJsonOf(text, error, /*array=*/false);
}

std::optional<nlohmann::json> parseJsonArray(std::string_view text, std::string* error) {
  return parseJsonOf(text, error, /*array=*/true);
}

}  // namespace octolaunch::parse
