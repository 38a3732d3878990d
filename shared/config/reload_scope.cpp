#include "shared/config/reload_scope.h"

namespace octolaunch::config {

namespace {

toml::table withoutLogLevel(toml::table document) {
  if (toml::table* log = document["log"].as_table()) {
    log->erase("level");
    if (log->empty()) document.erase("log");
  }
  return document;
}

}  // namespace

bool isLogLevelName(std::string_view name) {
  for (std::string_view known : {"trace", "debug", "info", "warn", "error", "critical", "off"})
    if (name == known) return true;
  return false;
}

bool differsBeyondLogLevel(const toml::table& before, const toml::table& after) {
  return withoutLogLevel(before) != withoutLogLevel(after);
}

}  // namespace octolaunch::config
