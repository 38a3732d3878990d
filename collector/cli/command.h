// One `octolaunch` command. To add a command: write commands/<name>_command.cpp defining a class
// derived from Command (ApiCommand for one request to the API) and a make<Name>Command() factory,
// declare the factory in command_registry.h and add it to allCommands() in command_registry.cpp.
//
// Every command returns an ExitCode (exit_code.h); its help ends with its examples and the exit
// codes it can return.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "collector/cli/api_client.h"
#include "collector/cli/exit_code.h"

namespace octolaunch::cli {

struct CliContext {
  ApiClient& api;
  bool json = false;  // print the API's JSON object instead of a table
  std::ostream& out;
  std::ostream& err;
  bool colour = false;     // paint status words (see colour.h)
  std::int64_t nowNs = 0;  // the wall clock relative time flags count back from
};

class Command {
 public:
  virtual ~Command() = default;
  // Where it sits in the command tree, e.g. {"release", "show"}.
  virtual std::vector<std::string> path() const = 0;
  virtual std::string description() const = 0;
  // Command lines a user can copy, at least one, each starting with "octolaunch ".
  virtual std::vector<std::string> examples() const = 0;
  // What ExitCode::checkFound means for this command ("drift found"), "" when it never returns it.
  virtual std::string checkMeaning() const { return ""; }
  // Adds the command's own options and positionals, bound to members of the command.
  virtual void addOptions(CLI::App& app) = 0;
  // Runs after parsing. Throws Unreachable when the collector cannot be reached.
  virtual ExitCode run(CliContext& context) = 0;
  // How long the command waits for each answer of the collector.
  virtual std::chrono::milliseconds timeout() const { return std::chrono::seconds(10); }
};

// A command that makes one API request and shows the answer. run() keeps the common contract: a
// non-2xx answer is reported on err with its exit code (reportApiError); with --json the body is
// printed as it came (exit code from jsonExitCode); otherwise show() prints it for people.
// A command that offers --no-fail (addNoFailOption) turns "collector unreachable" and a 5xx into
// a warning on err and ExitCode::ok: what it reports is lost, the CI job goes on.
class ApiCommand : public Command {
 public:
  ExitCode run(CliContext& context) final;

 protected:
  // The one request, through context.api. Throws Unreachable when the collector cannot be reached.
  virtual ApiResponse request(CliContext& context) = 0;
  // Prints a 2xx answer on context.out and returns the exit code.
  virtual ExitCode show(CliContext& context, const ApiResponse& response) = 0;
  // The exit code of a 2xx answer printed as JSON.
  virtual ExitCode jsonExitCode(const nlohmann::json& /*body*/) const { return ExitCode::ok; }
  // Adds --no-fail (also from OCTOLAUNCH_NO_FAIL=1).
  void addNoFailOption(CLI::App& app);

 private:
  ExitCode carryOn(CliContext& context, const std::string& problem) const;
  bool noFail_ = false;
};

// Prints the error of a non-2xx answer on err and returns exitCodeForStatus(); 401 and 403 add a
// line on what the token lacks.
ExitCode reportApiError(CliContext& context, const ApiResponse& response);
// Prints body as indented JSON on out.
void printJson(CliContext& context, const nlohmann::json& body);
// The verdict of --check on a release's analysed status: checkFound for failed, partially_failed
// and pipeline_failed, ok for every other status (pending, in_progress, succeeded).
ExitCode releaseCheck(const nlohmann::json& release);

}  // namespace octolaunch::cli
