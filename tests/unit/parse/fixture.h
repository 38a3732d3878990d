// Access to the captured fixtures under tests/fixtures (see tests/fixtures/SOURCES.md).
#pragma once

#include <string>
#include <vector>

#include "agent/parse/kernel_message.h"
#include "agent/parse/oom_kill.h"

namespace octolaunch::parse::test {

// The whole file; fails the current test (ADD_FAILURE) and returns "" when it cannot be read.
std::string fixture(const std::string& relativePath);

// Runs a kernel log fixture (any format the parse command accepts) through OomAssembler, as the
// `parse kmsg` command does, and returns every kill including those flushed at the end.
std::vector<OomKill> killsOf(const std::string& relativePath);

}  // namespace octolaunch::parse::test
