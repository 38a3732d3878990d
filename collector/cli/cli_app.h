// The `octolaunch` command line: global options (--url, --token, --json), the command tree from
// command_registry.h, and the exit codes of exit_code.h. main() only calls runCli().
#pragma once

#include <cstdint>
#include <iosfwd>

namespace octolaunch::cli {

// Environment: OCTOLAUNCH_URL (default http://127.0.0.1:7702), OCTOLAUNCH_TOKEN,
// OCTOLAUNCH_CA_FILE, OCTOLAUNCH_NO_FAIL. Returns an ExitCode's value. A word the parser cannot
// place (a mistyped command or option) is a usage error naming the nearest one that exists.
int runCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace octolaunch::cli
