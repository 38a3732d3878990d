// `octolaunch-agent parse SOURCE FILE|-`: runs the agent's own parsers on captured text.
#pragma once

#include <iosfwd>
#include <string>

namespace octolaunch::parse {

// SOURCE: kmsg, journal-json, docker-events, psi, memory-events; path "-" reads stdin.
// Prints one JSON object per line on stdout ({"kind": ..., ["time": ..., "time_ns": ...,] "data":
// {...}} with the HTTP API's field names), the skipped-line count on stderr. Returns 0 on success,
// 2 on an unknown source or an unreadable file (with a message on stderr).
int runParseCommand(const std::string& source, const std::string& path);

// The same, on streams (for tests).
int runParseCommand(const std::string& source, std::istream& in, std::ostream& out,
                    std::ostream& err, const std::string& nameForPsi = "");

}  // namespace octolaunch::parse
