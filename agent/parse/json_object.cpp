#include "agent/parse/json_object.h"

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

std::optional<nlohmann::json> parseJsonObject(std::string_view text, std::string* error) {
  if (!jsonDepthWithin(text, 32)) {
    if (error) *error = "JSON nested too deeply";
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    if (error) *error = doc.is_discarded() ? "not JSON" : "not a JSON object";
    return std::nullopt;
  }
  return doc;
}

}  // namespace octolaunch::parse
