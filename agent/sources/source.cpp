#include "agent/sources/source.h"

#include <spdlog/spdlog.h>

namespace octolaunch::sources {

void DegradedNote::set(std::string_view source, const std::string& what, std::string_view fix) {
  if (!text_.empty()) return;
  text_ = what + "; fix: " + std::string(fix);
  spdlog::warn("sources: {}: {}", source, text_);
}

}  // namespace octolaunch::sources
