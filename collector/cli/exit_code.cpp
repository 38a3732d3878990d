#include "collector/cli/exit_code.h"

namespace octolaunch::cli {

ExitCode exitCodeForStatus(int httpStatus) {
  if (httpStatus == 404) return ExitCode::notFound;
  if (httpStatus == 401 || httpStatus == 403) return ExitCode::notAuthorised;
  if (httpStatus >= 400 && httpStatus < 500) return ExitCode::usage;
  return ExitCode::serverError;
}

std::string exitCodeSummary(const std::string& checkMeaning) {
  std::string text = "Exit codes: 0 ok, ";
  if (!checkMeaning.empty()) text += "1 " + checkMeaning + ", ";
  return text +
         "2 usage, 3 collector unreachable, 4 not found, 5 not authorised (401/403), "
         "6 server error (5xx).";
}

std::string exitCodeTable() {
  return "Exit codes (the same for every command):\n"
         "  0  ok\n"
         "  1  the check found something: hosts that drift (drift), a failed release\n"
         "     (why --check, release show --check)\n"
         "  2  usage: bad flags or arguments, or a request the collector refused (400, 409, ...)\n"
         "  3  collector unreachable: refused, timed out, TLS failure (release create/stage\n"
         "     --no-fail: a warning and 0)\n"
         "  4  not found (404): no such release or agent\n"
         "  5  not authorised: no or an unknown token (401), a scope too low (403)\n"
         "  6  server error (5xx; release create/stage --no-fail: a warning and 0)\n";
}

}  // namespace octolaunch::cli
