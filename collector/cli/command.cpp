#include "collector/cli/command.h"

#include <ostream>

namespace octolaunch::cli {

int reportApiError(CliContext& context, const ApiResponse& response) {
  context.err << "octolaunch: " << response.error() << "\n";
  if (response.status == 404) return kExitNotFound;
  if (response.status == 400) return kExitUsage;
  return 1;
}

void printJson(CliContext& context, const nlohmann::json& body) {
  context.out << body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace octolaunch::cli
