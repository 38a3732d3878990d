// The exit codes of `octolaunch`, the one list every command returns from and the help, the README
// and docs/errors.md describe. A CI step can branch on each: they never change meaning.
#pragma once

#include <string>

namespace octolaunch::cli {

enum class ExitCode : int {
  ok = 0,
  // The command's check found something: drift (`drift`), a failed release (`why --check`,
  // `release show --check`).
  checkFound = 1,
  // Bad flags or arguments (an impossible date included), or a request the collector refused as
  // malformed or conflicting (400, 409, 413 and the other 4xx below).
  usage = 2,
  // No HTTP answer: connection refused, timed out, no route, a TLS failure.
  unreachable = 3,
  // The release, agent or other object asked about does not exist (404).
  notFound = 4,
  // The token is missing or unknown (401), or its scope is too low (403).
  notAuthorised = 5,
  // The collector failed (5xx, e.g. 507 when its disk is full) or answered outside HTTP's rules.
  serverError = 6,
};

// The exit code of a non-2xx HTTP answer.
ExitCode exitCodeForStatus(int httpStatus);

// "0 ok, 1 drift found, 2 usage, ..." for a command's help; checkMeaning: what 1 means for this
// command, or "" when it never exits 1.
std::string exitCodeSummary(const std::string& checkMeaning);

// The full table for `octolaunch --help`, one code a line.
std::string exitCodeTable();

}  // namespace octolaunch::cli
