// One `octolaunch` command. To add a command: write commands/<name>_command.cpp defining a class
// derived from Command (ApiCommand for one request to the API) and a make<Name>Command() factory,
// declare the factory in command_registry.h and add it to allCommands() in command_registry.cpp.
//
// Exit codes every command keeps: 0 ok, 1 not found (or the check failed), 2 usage (including a
// 400 from the API), 3 collector unreachable (the message names the address).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "collector/cli/api_client.h"

namespace octolaunch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct CliContext {
  ApiClient& api;
  bool json = false;  // print the API's JSON object instead of a table
  std::ostream& out;
  std::ostream& err;
  bool colour = false;  // paint status words (see colour.h)
};

class Command {
 public:
  virtual ~Command() = default;
  // Where it sits in the command tree, e.g. {"release", "show"}.
  virtual std::vector<std::string> path() const = 0;
  virtual std::string description() const = 0;
  // Adds the command's own options and positionals, bound to members of the command.
  virtual void addOptions(CLI::App& app) = 0;
  // Runs after parsing. Throws Unreachable when the collector cannot be reached.
  virtual int run(CliContext& context) = 0;
  // How long the command waits for each answer of the collector.
  virtual std::chrono::milliseconds timeout() const { return std::chrono::seconds(10); }
};

// A command that makes one API request and shows the answer. run() keeps the common contract: a
// non-2xx answer is reported on err with its exit code (reportApiError); with --json the body is
// printed as it came (exit code from jsonExitCode); otherwise show() prints it for people.
class ApiCommand : public Command {
 public:
  int run(CliContext& context) final;

 protected:
  // The one request. Throws Unreachable when the collector cannot be reached.
  virtual ApiResponse request(ApiClient& api) = 0;
  // Prints a 2xx answer on context.out and returns the exit code.
  virtual int show(CliContext& context, const ApiResponse& response) = 0;
  // The exit code of a 2xx answer printed as JSON.
  virtual int jsonExitCode(const nlohmann::json& /*body*/) const { return kExitOk; }
};

// Prints the error of a non-2xx answer on err and returns its exit code (404 -> 1, 400 -> 2,
// others -> 1); 401 and 403 add a line on what the token lacks.
int reportApiError(CliContext& context, const ApiResponse& response);
// Prints body as indented JSON on out.
void printJson(CliContext& context, const nlohmann::json& body);

}  // namespace octolaunch::cli
