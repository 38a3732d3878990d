// octolaunch-agent: wiring only. Parses the command line, loads the config and hands over to the
// component that does the work (hook, deploy, run).
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/deploy/deploy_command.h"
#include "agent/deploy/deploy_finish_worker.h"
#include "agent/hook/hook_command.h"
#include "agent/local/local_records.h"
#include "agent/local/local_server.h"
#include "agent/parse/parse_command.h"
#include "agent/redact/redacting_sink.h"
#include "agent/redact/redactor.h"
#include "agent/services/services_config.h"
#include "agent/ship/shipper.h"
#include "agent/sources/source_set.h"
#include "agent/sources/sources_config.h"
#include "agent/spool/spool.h"
#include "octolaunch_version.h"
#include "shared/config/reload_scope.h"
#include "shared/log/journal_log.h"
#include "shared/tls/tls_files.h"
#include "shared/util/systemd_notify.h"

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
  app.add_option("--agent-id", flags.overrides.agentId,
                 "agent id (default: hash of /etc/machine-id)");
  app.add_option("--host", flags.overrides.host, "host name to report (default: hostname)");
  app.add_option("--token", flags.overrides.token,
                 "enrollment secret, presented once for this agent's own key");
}

std::optional<std::filesystem::path> explicitConfig(const CommonFlags& flags) {
  if (flags.configFile.empty()) return std::nullopt;
  return std::filesystem::path(flags.configFile);
}

// `run` and --check-config: the whole file, every component's sections, read strictly. Throws
// ConfigError naming every problem.
AgentConfig loadDaemonConfig(const CommonFlags& flags) {
  octolaunch::config::ConfigReport report;
  AgentConfig config = readAgentConfig(explicitConfig(flags), flags.overrides, {}, report);
  octolaunch::sources::readSourcesConfig(config.raw, report);
  octolaunch::services::readServicesConfig(config.raw, report);
  report.settle(octolaunch::config::Strictness::strict);
  return config;
}

// hook and deploy must never fail a deploy: problems in the file are warnings, and the offending
// values keep their defaults.
AgentConfig loadConfigLeniently(const CommonFlags& flags) {
  AgentConfig config = loadAgentConfig(explicitConfig(flags), flags.overrides, {},
                                       octolaunch::config::Strictness::lenient);
  for (const auto& w : config.warnings)
    std::fprintf(stderr, "octolaunch-agent: warning: %s\n", w.c_str());
  return config;
}

// The shipper's TLS context from [ship] ca_file, cert_file and key_file. Throws
// tls::TlsSetupError naming the key and file that cannot be used.
kj::Own<kj::TlsContext> makeShipperTls(const AgentConfig& config) {
  octolaunch::tls::ClientTlsFiles files;
  if (!config.ship.caFile.empty()) files.ca = {{"[ship] ca_file", config.ship.caFile}};
  if (!config.ship.certFile.empty()) {
    files.cert = {{"[ship] cert_file", config.ship.certFile}};
    files.key = {{"[ship] key_file", config.ship.keyFile}};
  }
  return octolaunch::tls::makeClientTls(files);
}

// SIGHUP: reads the file again, strictly; applies [log] level, says what else waits for a restart,
// and keeps everything as it was when the file has a problem. Returns the status for systemd.
std::string reloadConfig(const CommonFlags& flags, toml::table& current) {
  auto logger = spdlog::default_logger();
  AgentConfig fresh;
  try {
    fresh = loadDaemonConfig(flags);
  } catch (const ConfigError& e) {
    for (const auto& issue : e.issues())
      logger->error("reload: {}; keeping the running configuration", issue.text());
    return "running; the last reload failed (configuration errors logged)";
  }
  logger->set_level(spdlog::level::from_str(fresh.log.level));
  logger->info("reload: [log] level is {}", fresh.log.level);
  if (octolaunch::config::differsBeyondLogLevel(current, fresh.raw)) {
    logger->warn(
        "reload: {} changed more than [log] level; the rest takes effect at the next restart",
        fresh.file.empty() ? std::string("the configuration") : fresh.file.string());
  }
  current = std::move(fresh.raw);
  return "running; configuration reloaded";
}

// `octolaunch-agent run`: the daemon. Ships the spool on this thread's KJ event loop until
// SIGINT or SIGTERM (exit 0); SIGHUP re-reads the config (reloadConfig). Under systemd
// (Type=notify) it says READY=1 once the spool is open, the local socket listens and the sources
// have started (not when the collector answers), and sends the watchdog keep-alive only while
// both event loops (shipper, sources) turn. Exits 1 when an extra redaction pattern does not
// compile, the spool cannot be opened or watched, the local socket or queue cannot be set up
// (another daemon answers on the socket), or the host sources cannot be started; the configuration
// was read (and refused with exit 1) before.
int runDaemon(const CommonFlags& flags, const AgentConfig& config,
              octolaunch::sources::SourcesConfig sourcesConfig) {
  auto logger = spdlog::default_logger();
  logger->set_level(spdlog::level::from_str(config.log.level));
  // Counts what the sources log as problems, for the health report (before their thread starts).
  auto sourceProblems = std::make_shared<SourceProblemSink>();
  logger->sinks().push_back(sourceProblems);
  for (const auto& w : config.warnings) logger->warn("{}", w);
  // Before any thread exists: KJ takes these signals through its event port.
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGHUP);
  const octolaunch::SystemdNotifier notifier;
  octolaunch::LoopLiveness liveness(octolaunch::livenessBeatInterval(notifier));
  octolaunch::LoopLiveness::Loop& shipLoop = liveness.add("shipper");
  octolaunch::LoopLiveness::Loop& sourcesLoop = liveness.add("sources");

  std::unique_ptr<octolaunch::agent::Redactor> redactor;
  try {
    redactor = std::make_unique<octolaunch::agent::Redactor>(config.redact.patterns);
  } catch (const std::invalid_argument& e) {
    logger->error("[redact] {}", e.what());
    return 1;
  }
  std::unique_ptr<Spool> spool;
  try {
    spool = Spool::open({config.spool.dir, config.spool.maxBytes, nullptr});
  } catch (const std::exception& e) {
    logger->error("{}", e.what());
    return 1;
  }
  auto io = kj::setupAsyncIo();
  ShipperOptions options;
  options.collector = config.collector;
  options.agentId = config.agentId;
  options.host = config.host;
  options.token = config.token;
  options.version = octolaunch::kVersion;
  options.batchMaxEvents = config.ship.batchMaxEvents;
  options.window = config.ship.window;
  options.backoffMaxMs = config.ship.backoffMaxMs;
  options.keepaliveMs = config.ship.keepaliveMs;
  options.keyFile = config.ship.agentKeyFile.empty()
                        ? config.spool.dir / "agent.key"
                        : std::filesystem::path(config.ship.agentKeyFile);
  kj::Own<kj::TlsContext> tls;  // outlives the shipper
  if (shipTlsEnabled(config)) {
    try {
      tls = makeShipperTls(config);
    } catch (const std::exception& e) {
      logger->error("cannot set up TLS to the collector: {}", e.what());
      return 1;
    }
    options.tls = tls.get();
    options.tlsServerName = octolaunch::agent::shipServerName(config);
  } else if (config.ship.tls == false) {
    logger->warn("[ship] tls = false: events travel to collector {} unencrypted", config.collector);
  }
  octolaunch::SystemClock clock;  // before the shipper and the sources: outlives both
  std::unique_ptr<Shipper> shipper;
  try {
    shipper = std::make_unique<Shipper>(io, *spool, clock, options, logger);
  } catch (const std::exception& e) {
    logger->error("cannot watch the spool: {}", e.what());
    return 1;
  }

  // Deploy users hand their records over the local socket (and the fallback queue); a stored
  // deploy.finish is observed on the worker's thread. Declared after the spool and the clock:
  // destroyed before them, the server (closing every connection) first.
  octolaunch::deploy::DeployFinishWorker finishWorker(config, *spool, clock, logger);
  LocalRecords localRecords(*spool, [&finishWorker](const DeployFinished& finished) {
    finishWorker.post(finished.service, finished.release, finished.outcome);
  });
  std::unique_ptr<LocalServer> localServer;
  // Recording failures: batches the agent refused or could not store, connections closed over
  // the limits and damaged queue files (a user who reaches neither the socket nor the queue is in
  // the journal only: the hook's syslog line).
  shipper->reportHealthFrom(
      [&localRecords, &localServer, &sourceProblems](AgentHealthReport& report) {
        report.recordingFailures = localRecords.failures();
        if (localServer) {
          const HandOverCounts counts = localServer->handOverCounts();
          report.recordingFailures += counts.connectionsOverLimit + counts.queueFilesDamaged;
        }
        report.sourceErrors = sourceProblems->counts();
      });
  try {
    LocalServerOptions localOptions;
    localOptions.socket = config.socketPath();
    localOptions.queueDir = config.queueDir();
    localOptions.socketGroup = config.local.socketGroup;
    localOptions.maxConnections = config.local.maxConnections;
    localOptions.maxConnectionsPerUser = config.local.maxConnectionsPerUser;
    localServer = std::make_unique<LocalServer>(io, localRecords, localOptions, logger);
  } catch (const std::exception& e) {
    logger->error("{}", e.what());
    return 1;
  }

  // The host sources and health probes run on one Boost.Asio thread of their own, appending to
  // the spool; the shipper sees their appends on the spool's file. Declared after the spool and the
  // shipper: destroyed (stopped and joined) before them.
  // The sources' free text (unit, container and probe messages, probe targets) is masked on its
  // way to the spool.
  octolaunch::agent::RedactingSink redactedSpool(*spool, *redactor);
  std::unique_ptr<octolaunch::sources::SourcesThread> sources;
  try {
    sources = std::make_unique<octolaunch::sources::SourcesThread>(
        redactedSpool, clock, std::move(sourcesConfig),
        [&redactor](std::string& line) { line = redactor->redacted(line); });
  } catch (const std::exception& e) {
    logger->error("cannot start the host sources: {}", e.what());
    return 1;
  }
  std::string running;
  for (const auto& name : sources->running()) running += (running.empty() ? "" : ", ") + name;
  logger->info("host sources running: {}", running.empty() ? "none" : running);
  sources->beatInto(liveness, sourcesLoop);

  logger->info(
      "octolaunch-agent {} running: agent {} host {}, spool {} (epoch {:016x}, {} pending), "
      "collector {}, local socket {}",
      octolaunch::kVersion, config.agentId, config.host, config.spool.dir.string(), spool->epoch(),
      spool->pendingCount(), config.collector, config.socketPath().string());
  notifier.ready("running: spool " + config.spool.dir.string() +
                 ", sources: " + (running.empty() ? std::string("none") : running) +
                 "; collector " + config.collector);
  toml::table loaded = config.raw;  // what a reload compares with
  auto stop = io.unixEventPort.onSignal(SIGINT)
                  .exclusiveJoin(io.unixEventPort.onSignal(SIGTERM))
                  .then([](siginfo_t info) { return info.si_signo; });
  kj::Timer& timer = io.provider->getTimer();
  int signo =
      shipper->run()
          .exclusiveJoin(localServer->run())
          .exclusiveJoin(octolaunch::keepAliveWhileLive(timer, notifier, liveness, shipLoop))
          .exclusiveJoin(octolaunch::reloadOnSignal(
              io.unixEventPort, SIGHUP, notifier,
              [&flags, &loaded]() { return reloadConfig(flags, loaded); }))
          .then([]() { return 0; })
          .exclusiveJoin(kj::mv(stop))
          .wait(io.waitScope);
  notifier.stopping();
  sources->stop();
  logger->info("stopping on signal {} ({} events still in the spool)", signo,
               spool->pendingCount());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Every component logs through the default logger: stderr, never the hook's stdout; under
  // systemd with journald priorities.
  spdlog::set_default_logger(octolaunch::log::makeStderrLogger("octolaunch-agent"));
  CLI::App app{
      "octolaunch-agent: records deploy hooks and host evidence, ships them to the "
      "OctoLaunch collector"};
  app.set_version_flag("--version", std::string("octolaunch-agent ") + octolaunch::kVersion);
  app.require_subcommand(1);
  CommonFlags flags;
  addCommonFlags(app, flags);

  // hook
  HookArgs hookArgs;
  CLI::App* hook = app.add_subcommand(
      "hook",
      "run CMD, pass its output through unchanged and record it: hook [--release R] "
      "[--service S] [--phase P] -- CMD [ARGS...]");
  hook->fallthrough();
  hook->add_option("--release", hookArgs.release, "release id");
  hook->add_option("--service", hookArgs.service, "service name");
  hook->add_option("--phase", hookArgs.phase, "deploy phase (e.g. migrate)");
  hook->add_option("command", hookArgs.command, "the command and its arguments (after --)");

  // deploy
  octolaunch::deploy::DeployArgs deployArgs;
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
  bool checkConfig = false;
  run->add_flag("--check-config", checkConfig, "validate the whole config file and exit");

  // parse: the agent's parsers offline on a captured file (agent/parse).
  std::string parseSource;
  std::string parsePath;
  CLI::App* parse = app.add_subcommand(
      "parse",
      "run the agent's parsers on a captured file, one JSON event per line: parse SOURCE FILE|-");
  parse->add_option("source", parseSource, "kmsg, journal-json, docker-events, psi, memory-events")
      ->required();
  parse->add_option("file", parsePath, "captured file, or - for stdin")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; every usage error exits 2 (not CLI11's own
    // codes), after CLI11's message on stderr.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (hook->parsed()) {
    if (hookArgs.command.empty()) {
      std::cerr << "octolaunch-agent hook: no command given\n"
                << "usage: octolaunch-agent hook [--release R] [--service S] [--phase P] -- CMD "
                   "[ARGS...]\n";
      return 2;
    }
    return runHookCommand(loadConfigLeniently(flags), hookArgs);
  }
  if (parse->parsed()) return octolaunch::parse::runParseCommand(parseSource, parsePath);
  if (deploy->parsed())
    return octolaunch::deploy::runDeployCommand(loadConfigLeniently(flags), deployArgs);
  if (run->parsed()) {
    AgentConfig config;
    octolaunch::sources::SourcesConfig sourcesConfig;
    try {
      config = loadDaemonConfig(flags);
      if (checkConfig) {
        if (shipTlsEnabled(config)) makeShipperTls(config);  // the files must be usable too
        std::printf("config ok (%s)\n", config.file.empty() ? "defaults; no config file"
                                                            : config.file.string().c_str());
        return 0;
      }
      sourcesConfig = octolaunch::sources::sourcesConfigFor(config.raw, config.spool.dir);
    } catch (const ConfigError& e) {
      for (const auto& issue : e.issues())
        std::fprintf(stderr, "octolaunch-agent: %s\n", issue.text().c_str());
      return 1;
    } catch (const octolaunch::tls::TlsSetupError& e) {
      std::fprintf(stderr, "octolaunch-agent: %s\n", e.what());
      return 1;
    }
    return runDaemon(flags, config, std::move(sourcesConfig));
  }
  return 2;
}
