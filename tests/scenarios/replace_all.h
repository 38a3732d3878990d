// Placeholders in the scenarios' configs and captured journal text, filled in per host.
#pragma once

#include <string>

namespace octolaunch::testing {

// text with every occurrence of from replaced by to (left to right, not rescanning what to adds).
inline std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
  return text;
}

}  // namespace octolaunch::testing
