#include "collector/cli/colour.h"

#include <cstdlib>
#include <cstring>

namespace octolaunch::cli {

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kReset = "\x1b[0m";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

const char* colourOf(std::string_view text) {
  for (std::string_view w : {"failed", "partially_failed", "pipeline_failed"}) {
    if (startsWith(text, w)) return kRed;
  }
  for (std::string_view w : {"succeeded", "ok"}) {
    if (startsWith(text, w)) return kGreen;
  }
  for (std::string_view w : {"in_progress", "pending", "started"}) {
    if (startsWith(text, w)) return kYellow;
  }
  return nullptr;
}

}  // namespace

bool colourWanted(std::string_view mode, bool toTerminal) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* noColour = std::getenv("NO_COLOR");
  if (noColour != nullptr && *noColour != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return toTerminal;
}

std::string paintStatus(const std::string& text, bool on) {
  const char* colour = on ? colourOf(text) : nullptr;
  if (colour == nullptr) return text;
  return colour + text + kReset;
}

}  // namespace octolaunch::cli
