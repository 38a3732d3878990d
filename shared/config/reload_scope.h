// What SIGHUP can change in a running daemon: only [log] level. Everything else in the files
// (listeners, stores, tokens, sources, redaction) is wired into objects that other threads hold
// for the process's lifetime, and takes effect at the next restart.
//
// Threads: pure functions.
#pragma once

#include <toml++/toml.h>

#include <string_view>

namespace octolaunch::config {

// The names [log] level takes (spdlog's), for messages; and whether `name` is one of them.
inline constexpr std::string_view kLogLevelNames = "trace, debug, info, warn, error, critical, off";
bool isLogLevelName(std::string_view name);

// True when before and after differ in anything but [log] level (which a reload applies).
bool differsBeyondLogLevel(const toml::table& before, const toml::table& after);

}  // namespace octolaunch::config
