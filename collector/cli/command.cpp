#include "collector/cli/command.h"

#include <ostream>

namespace octolaunch::cli {

ExitCode reportApiError(CliContext& context, const ApiResponse& response) {
  context.err << "octolaunch: " << response.error() << "\n";
  if (response.status == 401) {
    context.err << "octolaunch: the collector wants an API token: pass --token or set "
                   "OCTOLAUNCH_TOKEN\n";
  } else if (response.status == 403) {
    context.err << "octolaunch: the token's scope does not allow this (read < write < admin)\n";
  }
  return exitCodeForStatus(response.status);
}

void ApiCommand::addNoFailOption(CLI::App& app) {
  app.add_flag("--no-fail", noFail_,
               "a collector that is unreachable, times out or fails (5xx) is a warning and exit "
               "0, so the pipeline goes on")
      ->envname("OCTOLAUNCH_NO_FAIL");
}

ExitCode ApiCommand::carryOn(CliContext& context, const std::string& problem) const {
  context.err << "octolaunch: warning: " << problem
              << "; nothing was recorded, carrying on (--no-fail)\n";
  return ExitCode::ok;
}

ExitCode ApiCommand::run(CliContext& context) {
  ApiResponse response;
  try {
    response = request(context);
  } catch (const Unreachable& e) {
    if (!noFail_) throw;
    return carryOn(context, e.what());
  }
  if (!response.ok()) {
    if (noFail_ && exitCodeForStatus(response.status) == ExitCode::serverError) {
      const std::string status = "HTTP " + std::to_string(response.status);
      const std::string why = response.error();
      return carryOn(context, "the collector at " + context.api.url() + " failed (" + status +
                                  (why == status ? "" : ": " + why) + ")");
    }
    return reportApiError(context, response);
  }
  if (context.json) {
    printJson(context, response.body);
    return jsonExitCode(response.body);
  }
  return show(context, response);
}

void printJson(CliContext& context, const nlohmann::json& body) {
  context.out << body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

ExitCode releaseCheck(const nlohmann::json& release) {
  const std::string status = release.value("status", "");
  return status == "failed" || status == "partially_failed" || status == "pipeline_failed"
             ? ExitCode::checkFound
             : ExitCode::ok;
}

}  // namespace octolaunch::cli
