// Environment files as systemd's EnvironmentFile= and /etc/default/* hold them: KEY=VALUE lines.
//
// Contract: parseEnvFile() never fails. It skips blank lines and comments (# or ;), accepts an
// optional leading "export ", trims the key and unquoted values, strips one pair of matching
// quotes ('...' literally, "..." with \" \\ \$ \` escapes), joins a line ending in a backslash
// with the next one, and ignores lines without '=' or with a key that is not a shell name. When a
// key repeats, the last value wins (as in systemd).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace octolaunch::services {

std::map<std::string, std::string> parseEnvFile(std::string_view text);

}  // namespace octolaunch::services
