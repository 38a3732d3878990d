// octolaunch-agent: wiring only. Parses the command line, loads the config and hands over to the
// component that does the work (hook, deploy, run).
#include "agent/config/agent_config.h"
#include "agent/hook/hook_command.h"
#include "octolaunch_version.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace octolaunch::agent;

struct CommonFlags {
  std::string configFile;
  ConfigOverrides overrides;
};

void addCommonFlags(CLI::App& app, CommonFlags& flags) {
  app.add_option("--config", flags.configFile,
                 "TOML config file (default /etc/octolaunch/agent.toml)");
  app.add_option("--spool-dir", flags.overrides.spoolDir, "spool directory");
  app.add_option("--collector", flags.overrides.collector, "collector RPC address HOST:PORT");
  app.add_option("--agent-id", flags.overrides.agentId, "agent id (default: hash of /etc/machine-id)");
  app.add_option("--host", flags.overrides.host, "host name to report (default: hostname)");
  app.add_option("--token", flags.overrides.token, "the agent's credential");
}

std::optional<std::filesystem::path> explicitConfig(const CommonFlags& flags) {
  if (flags.configFile.empty()) return std::nullopt;
  return std::filesystem::path(flags.configFile);
}

// Loads the config; prints unknown-key warnings. Throws ConfigError.
AgentConfig loadConfig(const CommonFlags& flags) {
  AgentConfig config = loadAgentConfig(explicitConfig(flags), flags.overrides);
  for (const auto& w : config.warnings) std::fprintf(stderr, "octolaunch-agent: warning: %s\n", w.c_str());
  return config;
}

// hook and deploy must never fail a deploy: a broken config file is a warning, and the defaults
// (plus the flags) apply.
AgentConfig loadConfigLeniently(const CommonFlags& flags) {
  try {
    return loadConfig(flags);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "octolaunch-agent: warning: %s; using defaults\n", e.what());
    ConfigOverrides safe = flags.overrides;
    safe.collector.reset();  // not needed here, and possibly what was wrong
    return loadAgentConfig(std::filesystem::path("/dev/null"), safe);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"octolaunch-agent: records deploy hooks and host evidence, ships them to the "
               "OctoLaunch collector"};
  app.set_version_flag("--version", std::string("octolaunch-agent ") + octolaunch::kVersion);
  app.require_subcommand(1);
  CommonFlags flags;
  addCommonFlags(app, flags);

  // hook
  HookArgs hookArgs;
  CLI::App* hook = app.add_subcommand(
      "hook", "run CMD, pass its output through unchanged and record it: hook [--release R] "
              "[--service S] [--phase P] -- CMD [ARGS...]");
  hook->fallthrough();
  hook->add_option("--release", hookArgs.release, "release id");
  hook->add_option("--service", hookArgs.service, "service name");
  hook->add_option("--phase", hookArgs.phase, "deploy phase (e.g. migrate)");
  hook->add_option("command", hookArgs.command, "the command and its arguments (after --)");

  // deploy
  DeployArgs deployArgs;
  CLI::App* deploy = app.add_subcommand("deploy", "record a deploy marker: deploy start|finish");
  deploy->fallthrough();
  deploy->add_option("action", deployArgs.action, "start or finish")
      ->required()
      ->check(CLI::IsMember({"start", "finish"}));
  deploy->add_option("--release", deployArgs.release, "release id")->required();
  deploy->add_option("--service", deployArgs.service, "service name")->required();
  deploy->add_option("--outcome", deployArgs.outcome, "ok or failed (finish)")
      ->check(CLI::IsMember({"ok", "failed"}));
  deploy->add_option("--phase", deployArgs.phase, "deploy phase");

  // run
  CLI::App* run = app.add_subcommand("run", "ship the spool to the collector (the daemon)");
  run->fallthrough();

  // parse: another component provides agent/parse/parse_command.h; wired by the lead.

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (hook->parsed()) {
    if (hookArgs.command.empty()) {
      std::cerr << "octolaunch-agent hook: no command given\n"
                << "usage: octolaunch-agent hook [--release R] [--service S] [--phase P] -- CMD [ARGS...]\n";
      return 2;
    }
    return runHookCommand(loadConfigLeniently(flags), hookArgs);
  }
  if (deploy->parsed()) return runDeployCommand(loadConfigLeniently(flags), deployArgs);
  if (run->parsed()) {
    std::cerr << "octolaunch-agent run: not available in this build\n";
    return 1;
  }
  return 2;
}
