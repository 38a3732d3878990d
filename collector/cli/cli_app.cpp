#include "collector/cli/cli_app.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>

#include "collector/cli/colour.h"
#include "collector/cli/command_registry.h"
#include "octolaunch_version.h"
#include "shared/config/toml_reader.h"
#include "shared/util/clock.h"

namespace octolaunch::cli {

namespace {

std::string envOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// Descriptions of the command groups, which have no Command of their own.
const std::map<std::string, std::string> kGroups = {
    {"release", "register a release, report its stages, show it"},
    {"agents", "the enrolled agents: list, revoke"}};

std::string footerOf(const Command& command) {
  std::string text = "\nExamples:\n";
  for (const std::string& example : command.examples()) text += "  " + example + "\n";
  return text + "\n" + exitCodeSummary(command.checkMeaning()) + "\n";
}

std::string topFooter() {
  return "\nEnvironment: OCTOLAUNCH_URL, OCTOLAUNCH_TOKEN, OCTOLAUNCH_CA_FILE, "
         "OCTOLAUNCH_NO_FAIL.\n"
         "Times (--since, --until): 30s, 15m, 1h, 2d, 1w ago; 2026-03-01 (midnight UTC); "
         "2026-03-01T12:00:00Z or +01:00.\n"
         "\nExamples:\n"
         "  octolaunch release create --id r42 --service api --commit 9f2c1e7 --no-fail\n"
         "  octolaunch why r42 --check\n"
         "  octolaunch events --release r42 --since 1h --json\n"
         "  octolaunch <command> --help   (each command's options and examples)\n\n" +
         exitCodeTable();
}

// The command the parser reached: the deepest subcommand chosen on the command line.
const CLI::App* deepestCommand(const CLI::App& app) {
  const CLI::App* node = &app;
  while (!node->get_subcommands().empty()) node = node->get_subcommands().front();
  return node;
}

// What the parser could not place, with the nearest word that exists: "unknown command
// `releses`; did you mean `releases`?". nullopt when every word was placed.
std::optional<std::string> unknownWordMessage(const CLI::App& app) {
  const std::vector<std::string> left = app.remaining(true);
  if (left.empty()) return std::nullopt;
  const CLI::App* node = deepestCommand(app);
  std::string word = left.front();
  std::vector<std::string> candidates;
  std::string what;
  if (word.size() > 1 && word[0] == '-') {
    word = word.substr(0, word.find('='));
    what = "option";
    for (const CLI::App* n = node; n != nullptr; n = n->get_parent()) {
      for (const CLI::Option* option : n->get_options()) {
        for (const std::string& name : option->get_lnames()) candidates.push_back("--" + name);
      }
    }
  } else {
    const auto subcommands = node->get_subcommands({});
    if (subcommands.empty()) return "unexpected argument `" + word + "`";
    what = "command";
    for (const CLI::App* sub : subcommands) candidates.push_back(sub->get_name());
  }
  std::string message = "unknown " + what + " `" + word + "`";
  if (auto near = config::nearestKey(word, candidates))
    return message + "; did you mean `" + *near + "`?";
  if (what == "command") {
    std::string names;
    for (const std::string& c : candidates) names += (names.empty() ? "" : ", ") + c;
    return message + " (commands: " + names + ")";
  }
  return message;
}

}  // namespace

int runCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"octolaunch: ask the OctoLaunch collector about releases, hosts and events"};
  app.set_version_flag("--version", std::string("octolaunch ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(topFooter());
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
  const char* const jsonHelp = "print the API's JSON answer instead of a table";
  app.add_flag("--json", json, jsonHelp);
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
        const auto group = kGroups.find(path[i]);
        CLI::App* node = parent->add_subcommand(path[i], leaf ? command->description()
                                                         : group == kGroups.end() ? ""
                                                                                  : group->second);
        node->fallthrough();
        if (!leaf) {
          node->require_subcommand(1);
          node->footer("\nSee `octolaunch " + key.substr(1) + " COMMAND --help` for each one's " +
                       "options and examples.\n" + exitCodeSummary(""));
        }
        it = nodes.emplace(key, node).first;
      }
      parent = it->second;
    }
    command->addOptions(*parent);
    parent->add_flag("--json", json, jsonHelp);
    parent->footer(footerOf(*command));
    leaves.emplace_back(parent, command.get());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e, out, err);
      return static_cast<int>(ExitCode::ok);
    }
    const auto message = unknownWordMessage(app);
    err << "octolaunch: " << (message ? *message : std::string(e.what()))
        << "\nRun with --help for more information.\n";
    return static_cast<int>(ExitCode::usage);
  }
  for (auto& [node, command] : leaves) {
    // A command may also be a node ("events" and "events purge"): the deepest parsed one runs.
    if (!node->parsed() || !node->get_subcommands().empty()) continue;
    try {
      ApiClient api(url, token, command->timeout(), caFile);
      CliContext context{api, json, out, err};
      context.colour = colourWanted(colourMode, &out == &std::cout && ::isatty(STDOUT_FILENO) == 1);
      context.nowNs = SystemClock().nowNs();
      return static_cast<int>(command->run(context));
    } catch (const Unreachable& e) {
      err << "octolaunch: " << e.what() << "\n";
      return static_cast<int>(ExitCode::unreachable);
    } catch (const std::invalid_argument& e) {
      err << "octolaunch: " << e.what() << "\n";
      return static_cast<int>(ExitCode::usage);
    }
  }
  err << app.help();
  return static_cast<int>(ExitCode::usage);
}

}  // namespace octolaunch::cli
