#include "collector/cli/cli_app.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <ostream>

#include "collector/cli/colour.h"
#include "collector/cli/command_registry.h"
#include "octolaunch_version.h"

namespace octolaunch::cli {

namespace {
std::string envOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}
}  // namespace

int runCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"octolaunch: ask the OctoLaunch collector about releases, hosts and events"};
  app.set_version_flag("--version", std::string("octolaunch ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  std::string url = envOr("OCTOLAUNCH_URL", "http://127.0.0.1:7702");
  std::string token = envOr("OCTOLAUNCH_TOKEN", "");
  std::string caFile = envOr("OCTOLAUNCH_CA_FILE", "");
  bool json = false;
  app.add_option("--url", url, "collector URL (env OCTOLAUNCH_URL)")->capture_default_str();
  app.add_option("--token", token,
                 "API bearer token of the read, write or admin scope (env OCTOLAUNCH_TOKEN)");
  app.add_option("--ca-file", caFile,
                 "PEM file of the CA that issued the collector's https certificate (env "
                 "OCTOLAUNCH_CA_FILE; default: the system's trust store)");
  app.add_flag("--json", json, "print the API's JSON object instead of a table");
  std::string colourMode = "auto";
  app.add_option("--color", colourMode, "colour status words: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();

  // Build the command tree: intermediate nodes ("release") are created on first use.
  std::vector<std::unique_ptr<Command>> commands = allCommands();
  std::map<std::string, CLI::App*> nodes;
  std::vector<std::pair<CLI::App*, Command*>> leaves;
  for (auto& command : commands) {
    CLI::App* parent = &app;
    std::string key;
    const auto path = command->path();
    for (std::size_t i = 0; i < path.size(); ++i) {
      key += "/" + path[i];
      auto it = nodes.find(key);
      if (it == nodes.end()) {
        const bool leaf = i + 1 == path.size();
        CLI::App* node = parent->add_subcommand(path[i], leaf ? command->description() : "");
        node->fallthrough();
        if (!leaf) node->require_subcommand(1);
        it = nodes.emplace(key, node).first;
      }
      parent = it->second;
    }
    command->addOptions(*parent);
    leaves.emplace_back(parent, command.get());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, out, err);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (auto& [node, command] : leaves) {
    // A command may also be a node ("events" and "events purge"): the deepest parsed one runs.
    if (!node->parsed() || !node->get_subcommands().empty()) continue;
    try {
      ApiClient api(url, token, command->timeout(), caFile);
      CliContext context{api, json, out, err};
      context.colour = colourWanted(colourMode, &out == &std::cout && ::isatty(STDOUT_FILENO) == 1);
      return command->run(context);
    } catch (const Unreachable& e) {
      err << "octolaunch: " << e.what() << "\n";
      return kExitUnreachable;
    } catch (const std::invalid_argument& e) {
      err << "octolaunch: " << e.what() << "\n";
      return kExitUsage;
    }
  }
  err << app.help();
  return kExitUsage;
}

}  // namespace octolaunch::cli
