// The `octolaunch` command line: global options (--url, --token, --json), the command tree from
// command_registry.h, and the exit codes of command.h. main() only calls runCli().
#pragma once

#include <iosfwd>

namespace octolaunch::cli {

// Environment: OCTOLAUNCH_URL (default http://127.0.0.1:7702), OCTOLAUNCH_TOKEN.
int runCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace octolaunch::cli
