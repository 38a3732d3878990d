#include "collector/cli/command.h"

#include <ostream>

namespace octolaunch::cli {

int reportApiError(CliContext& context, const ApiResponse& response) {
  context.err << "octolaunch: " << response.error() << "\n";
  if (response.status == 401) {
    context.err << "octolaunch: the collector wants an API token: pass --token or set "
                   "OCTOLAUNCH_TOKEN\n";
  } else if (response.status == 403) {
    context.err << "octolaunch: the token's scope does not allow this (read < write < admin)\n";
  }
  if (response.status == 404) return kExitNotFound;
  if (response.status == 400) return kExitUsage;
  return 1;
}

int ApiCommand::run(CliContext& context) {
  ApiResponse response = request(context.api);
  if (!response.ok()) return reportApiError(context, response);
  if (context.json) {
    printJson(context, response.body);
    return jsonExitCode(response.body);
  }
  return show(context, response);
}

void printJson(CliContext& context, const nlohmann::json& body) {
  context.out << body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace octolaunch::cli
