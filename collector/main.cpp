// octolaunch-collector: wiring only. Reads the config, opens the store, serves RPC ingest on the
// KJ event loop of this (main) thread — the only thread that writes the store — and the HTTP API
// on a KJ event loop of its own with a pool of handler threads. SIGINT/SIGTERM stop it cleanly
// (exit 0); SIGHUP re-reads the config file and applies [log] level (shared/config/reload_scope.h).
// Under systemd (Type=notify) it says READY=1 once both listeners are bound, and sends the
// watchdog keep-alive only while both event loops turn.
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "collector/analysis/analysis_config.h"
#include "collector/config/collector_config.h"
#include "collector/http/http_server.h"
#include "collector/ingest/ingest_server.h"
#include "collector/ingest/thread_write_serializer.h"
#include "collector/releases/release_service.h"
#include "collector/retention/retention_runner.h"
#include "collector/store/agent_registry.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_backup.h"
#include "collector/store/store_check_command.h"
#include "collector/store/store_env.h"
#include "collector/store/store_format.h"
#include "collector/store/store_migration.h"
#include "octolaunch_version.h"
#include "shared/config/reload_scope.h"
#include "shared/log/journal_log.h"
#include "shared/tls/tls_files.h"
#include "shared/util/clock.h"
#include "shared/util/systemd_notify.h"

namespace {

using namespace octolaunch;

struct Flags {
  std::string config{std::string(collector::kDefaultConfigPath)};
  bool configGiven = false;
  std::optional<std::string> dataDir;
  std::optional<std::string> rpcListen;
  std::optional<std::string> httpListen;
  std::vector<std::string> agentTokens;
  bool rpcOpen = false;
  bool checkConfig = false;
  std::size_t migrateEventsPerTxn = 20000;  // `migrate --events-per-txn`
  bool repairIndexes = false;               // `check --repair-indexes`
  BackupOptions backup;                     // `backup --to`, `--compact`
  RestoreOptions restore;                   // `restore --from`, `--replace`
};

void setUpLogging(const std::string& level) {
  auto logger =
      octolaunch::log::makeStderrLogger("collector");  // journald priorities under systemd
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

// Brings a store written by an older collector to this build's format (store_migration.h),
// saying how far it got every `every` (a large store takes minutes). Throws what migrateStore
// throws; the work committed so far stays and the next start resumes it.
MigrationResult migrateWithProgress(lmdb::Env& env, const std::filesystem::path& dir,
                                    std::size_t eventsPerTxn, std::chrono::seconds every) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point lastSaid = Clock::now();
  MigrationOptions options{.eventsPerTxn = eventsPerTxn, .progress = {}};
  options.progress = [&](const MigrationProgress& p) {
    if (Clock::now() - lastSaid < every) return;
    lastSaid = Clock::now();
    spdlog::info("migrating the store in {} from format {} to {}: {} of {} events", dir.string(),
                 p.fromFormat, kStoreFormat, p.eventsDone, p.eventsTotal);
  };
  const MigrationResult result = migrateStore(env, options);
  if (result.fromFormat != kStoreFormat) {
    spdlog::info("store in {} migrated from format {} to {}{}: {} events rewritten", dir.string(),
                 result.fromFormat, kStoreFormat,
                 result.resumed ? " (resuming an interrupted migration)" : "",
                 result.eventsRewritten);
  }
  if (result.indexEntriesMissing > 0) {
    spdlog::warn(
        "store in {}: {} index entries that stored events imply are missing (those events are "
        "not found by that index)",
        dir.string(), result.indexEntriesMissing);
  }
  return result;
}

// The whole file, every component's sections, read strictly, then the flags. Throws
// collector::ConfigError naming every problem.
collector::CollectorConfig configure(const Flags& flags,
                                     analysis::AnalysisOptions& analysisOptions) {
  config::ConfigReport report;
  collector::CollectorConfig config =
      collector::readCollectorConfig(flags.config, flags.configGiven, report);
  analysisOptions = analysis::readAnalysisConfig(config.raw, report);
  report.settle(config::Strictness::strict);
  auto address = [](const std::string& flag, const std::string& value) {
    if (!collector::parseListenAddress(value)) {
      throw collector::ConfigError(flag + ": expected HOST:PORT (port 0 to 65535), got \"" + value +
                                   "\"");
    }
    return value;
  };
  if (flags.dataDir) config.store.dataDir = *flags.dataDir;
  if (flags.rpcListen) config.rpc.listen = address("--rpc-listen", *flags.rpcListen);
  if (flags.httpListen) config.http.listen = address("--http-listen", *flags.httpListen);
  for (const std::string& t : flags.agentTokens) {
    if (t.empty()) throw collector::ConfigError("--agent-token: a token must not be empty");
    config.rpc.tokens.push_back(t);
  }
  if (flags.rpcOpen) config.rpc.open = true;
  collector::checkRpcExposure(config.rpc);    // throws when open beyond loopback
  collector::checkHttpExposure(config.http);  // throws when open beyond loopback by accident
  collector::checkPlaintext("rpc", config.rpc.listen, config.rpc.tls, config.rpc.plaintext);
  collector::checkPlaintext("http", config.http.listen, config.http.tls, config.http.plaintext);
  return config;
}

// The listeners' TLS contexts; null where the config has no TLS.
struct ListenerTls {
  kj::Own<kj::TlsContext> rpc;
  kj::Own<kj::TlsContext> http;
};

// Reads the certificate and key files. Throws tls::TlsSetupError naming the key and file.
ListenerTls loadListenerTls(const collector::CollectorConfig& config) {
  auto load = [](const std::string& section, const collector::TlsSettings& settings) {
    tls::ServerTlsFiles files{{"[" + section + "] cert_file", settings.certFile},
                              {"[" + section + "] key_file", settings.keyFile},
                              std::nullopt};
    if (!settings.clientCaFile.empty())
      files.clientCa = {"[" + section + "] client_ca_file", settings.clientCaFile};
    return tls::makeServerTls(files);
  };
  ListenerTls tls;
  if (config.rpc.tls.enabled()) tls.rpc = load("rpc", config.rpc.tls);
  if (config.http.tls.enabled()) tls.http = load("http", config.http.tls);
  return tls;
}

// The HTTP server holds a socket per connection: raise the soft open-file limit so that
// max_connections fit beside the store and the RPC connections (never above the hard limit).
void raiseOpenFileLimit(unsigned maxConnections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = std::min<rlim_t>(limit.rlim_max, rlim_t{maxConnections} + 1024);
  if (limit.rlim_cur >= wanted) return;
  const rlim_t had = limit.rlim_cur;
  limit.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0 || wanted < rlim_t{maxConnections} + 1024) {
    spdlog::warn("open-file limit {} (hard {}) is below [http] max_connections {} + 1024", had,
                 limit.rlim_max, maxConnections);
  }
}

// GET /metrics: the store's extent, used and free bytes (used = extent less LMDB's free pages,
// which later writes reuse), its map size, and the time of its oldest event.
std::string storeSpaceMetrics(lmdb::Env& env, EventStore& events) {
  auto gauge = [](const char* name, const char* help, auto value) {
    return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name +
           " " + std::to_string(value) + "\n";
  };
  const lmdb::SpaceUse space = retention::currentSpaceUse(env);
  std::string out =
      gauge("octolaunch_store_size_bytes",
            "Bytes of the store's data file up to its last page in use.", space.extentBytes) +
      gauge("octolaunch_store_used_bytes",
            "Bytes of the store in use: its size less the free pages LMDB reuses.",
            space.usedBytes()) +
      gauge("octolaunch_store_free_bytes", "Bytes of free pages in the store, reused by writes.",
            space.freeBytes) +
      gauge("octolaunch_store_map_bytes", "The LMDB map size (the store's upper bound).",
            env.mapSize());
  if (auto oldest = events.oldestEventNs()) {
    out += gauge("octolaunch_store_oldest_event_seconds",
                 "Time of the oldest stored event (Unix seconds).",
                 static_cast<double>(*oldest) / 1e9);
  }
  return out;
}

// Clears stale LMDB reader slots (readers of killed processes) every minute.
kj::Promise<void> readerCheckLoop(kj::Timer& timer, lmdb::Env& env) {
  return timer.afterDelay(60 * kj::SECONDS).then([&timer, &env]() {
    if (int cleared = env.readerCheck())
      spdlog::warn("cleared {} stale LMDB reader slot(s)", cleared);
    return readerCheckLoop(timer, env);
  });
}

// Each agent connection is a descriptor: the soft limit (often 1024) is raised toward the hard one
// so that max_connections can be reached; a warning says when it cannot.
void raiseFileLimit(std::uint32_t maxConnections) {
  constexpr rlim_t kSpare = 256;  // store, listeners, HTTP clients
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(maxConnections) + kSpare;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < wanted) {
    spdlog::warn(
        "open files limited to {}: fewer than [rpc] max_connections ({}) agents can connect",
        limit.rlim_cur, maxConnections);
  }
}

// SIGHUP: reads the file again, strictly; applies [log] level, says what else waits for a restart,
// and keeps everything as it was when the file has a problem. Returns the status for systemd.
std::string reloadConfig(const Flags& flags, toml::table& current) {
  analysis::AnalysisOptions ignored;
  collector::CollectorConfig fresh;
  try {
    fresh = configure(flags, ignored);
  } catch (const collector::ConfigError& e) {
    for (const auto& issue : e.issues())
      spdlog::error("reload: {}; keeping the running configuration", issue.text());
    return "serving; the last reload failed (configuration errors logged)";
  }
  spdlog::default_logger()->set_level(spdlog::level::from_str(fresh.logLevel));
  spdlog::info("reload: [log] level is {}", fresh.logLevel);
  if (config::differsBeyondLogLevel(current, fresh.raw)) {
    spdlog::warn(
        "reload: {} changed more than [log] level; the rest takes effect at the next restart",
        flags.config);
  }
  current = std::move(fresh.raw);
  return "serving; configuration reloaded";
}

int serve(const Flags& flags, const collector::CollectorConfig& config,
          const analysis::AnalysisOptions& analysisOptions, ListenerTls tls) {
  if (config.rpc.open) {
    spdlog::warn("[rpc] open: agents without credentials are accepted on {}", config.rpc.listen);
  } else if (config.rpc.tokens.empty()) {
    spdlog::warn(
        "no enrollment secret ([rpc] tokens or --agent-token) and [rpc] open is off: only agents "
        "enrolled earlier can connect");
  }
  if (config.rpc.acceptSharedTokens) {
    spdlog::warn(
        "[rpc] accept_shared_tokens: agents that present an enrollment secret without a "
        "key are accepted under the agent id they claim (turn it off once every agent "
        "is upgraded)");
  }
  if (collector::checkHttpExposure(config.http)) {
    spdlog::warn(
        "[http] allow_open: the HTTP API on {} needs no token and is reachable beyond "
        "loopback",
        config.http.listen);
  }
  if (collector::checkPlaintext("rpc", config.rpc.listen, config.rpc.tls, config.rpc.plaintext)) {
    spdlog::warn("[rpc] plaintext: agent connections on {} are not encrypted", config.rpc.listen);
  }
  if (collector::checkPlaintext("http", config.http.listen, config.http.tls,
                                config.http.plaintext)) {
    spdlog::warn("[http] plaintext: the HTTP API on {} is not encrypted", config.http.listen);
  }
  // Before any thread exists, so every thread inherits the blocked mask and the loop gets them.
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGHUP);
  std::signal(SIGPIPE, SIG_IGN);
  const SystemdNotifier notifier;
  LoopLiveness liveness(livenessBeatInterval(notifier));
  LoopLiveness::Loop& rpcLoop = liveness.add("rpc");
  LoopLiveness::Loop& httpLoop = liveness.add("http");
  raiseFileLimit(config.rpc.maxConnections);
  kj::AsyncIoContext io = kj::setupAsyncIo();

  SystemClock clock;
  lmdb::Env env = openCollectorEnv(config.store.dataDir, config.store.mapSize);
  migrateWithProgress(env, config.store.dataDir, flags.migrateEventsPerTxn,
                      std::chrono::seconds(5));
  LmdbEventStore events(env, clock);
  LmdbReleaseStore releases(env);
  ingest::IngestMetrics metrics;
  ingest::TokenSet secrets(config.rpc.tokens);
  AgentRegistry registry(env);
  ingest::AgentAccess access(
      registry, secrets,
      ingest::AccessOptions{.open = config.rpc.open,
                            .acceptSharedTokens = config.rpc.acceptSharedTokens},
      clock);
  ingest::SessionTable sessions;
  ingest::IngestServer ingestServer(
      events, access, sessions,
      ingest::IngestLimits{.maxMessageBytes = config.rpc.maxMessageBytes,
                           .maxNesting = config.rpc.maxNesting,
                           .flowLimitBytes = config.rpc.flowLimitBytes,
                           .maxBatchEvents = config.rpc.maxBatchEvents,
                           .maxConnections = config.rpc.maxConnections,
                           .helloTimeoutMs = config.rpc.helloTimeoutMs,
                           .idleTimeoutMs = config.rpc.idleTimeoutMs,
                           .helloMaxBytes = config.rpc.helloMaxBytes,
                           .maxUnsentBytes = config.rpc.maxUnsentBytes},
      metrics, io.provider->getTimer(), clock);
  if (tls.rpc) ingestServer.useTls(*tls.rpc);

  const auto rpcAddress = *collector::parseListenAddress(config.rpc.listen);
  kj::Own<kj::ConnectionReceiver> listener =
      io.provider->getNetwork().parseAddress(config.rpc.listen).wait(io.waitScope)->listen();
  std::cout << "rpc listening on " << rpcAddress.host << ":" << listener->getPort() << std::endl;

  ingest::ThreadWriteSerializer writer(ingestServer.writer());
  http::ApiContext api{events, releases, writer, clock, {}};
  api.agents = &registry;
  api.agentRevoked = [&sessions](const std::string& agentId) { sessions.end(agentId); };
  api.analysis = &analysisOptions;
  api.agentStatus = &metrics.agents;
  api.metrics.push_back([&metrics]() { return metrics.prometheus(); });
  api.metrics.push_back([&events]() {
    return "# HELP octolaunch_store_quarantined_events Events kept in quarantine as received.\n"
           "# TYPE octolaunch_store_quarantined_events "
           "gauge\noctolaunch_store_quarantined_events " +
           std::to_string(events.quarantinedCount()) + "\n";
  });
  api.metrics.push_back([&env, &events]() { return storeSpaceMetrics(env, events); });
  releases::ReleaseService retentionAnalyses(events, releases, writer, clock, analysisOptions);
  auto retentionFinished = kj::newPromiseAndCrossThreadFulfiller<void>();
  kj::CrossThreadPromiseFulfiller<void>* retentionExit = retentionFinished.fulfiller.get();
  std::optional<retention::RetentionRunner> retentionRunner;
  if (config.retention.enabled) {
    retentionRunner.emplace(
        retention::RetentionRunner::Parts{
            .events = events,
            .releases = releases,
            .service = retentionAnalyses,
            .writer = writer,
            .env = env,
            .clock = clock,
            .mapSize = config.store.mapSize,
            .onExit = [retentionExit]() { retentionExit->fulfill(); }},
        config.retention);
    api.metrics.push_back([&retentionRunner]() { return retentionRunner->metricsText(); });
    spdlog::info(
        "retention: events older than {} days go (failed releases' evidence after {} days), and "
        "the oldest above {} MiB used; a pass every {} s",
        config.retention.maxAgeDays, config.retention.failedReleaseDays,
        config.retention.sizeCap(config.store.mapSize) >> 20, config.retention.intervalSeconds);
  } else {
    spdlog::warn("[retention] enabled = false: the store only grows (up to [store] map_size)");
  }
  raiseOpenFileLimit(config.http.maxConnections);
  http::HttpServer httpServer(api, config.http);  // the [http] limits
  if (tls.http) httpServer.useTls(kj::mv(tls.http));
  httpServer.beatInto(liveness, httpLoop);
  const auto httpAddress = *collector::parseListenAddress(config.http.listen);
  const int httpPort = httpServer.bind(httpAddress.host, httpAddress.port);
  std::cout << "http listening on " << httpAddress.host << ":" << httpPort << std::endl;
  notifier.ready("serving: rpc " + rpcAddress.host + ":" + std::to_string(listener->getPort()) +
                 ", http " + httpAddress.host + ":" + std::to_string(httpPort));
  toml::table loaded = config.raw;  // what a reload compares with

  auto httpDone = kj::newPromiseAndCrossThreadFulfiller<bool>();
  // The fulfiller stays owned here (its Own may not cross into std::thread's state); the thread
  // is joined before it goes away.
  kj::CrossThreadPromiseFulfiller<bool>* fulfiller = httpDone.fulfiller.get();
  std::thread httpThread([&httpServer, fulfiller]() {
    bool ok = httpServer.run();
    fulfiller->fulfill(kj::mv(ok));
  });
  kj::ForkedPromise<bool> httpFinished = httpDone.promise.fork();

  bool failed = false;
  kj::Promise<void> stop =
      io.unixEventPort.onSignal(SIGINT)
          .exclusiveJoin(io.unixEventPort.onSignal(SIGTERM))
          .then([](siginfo_t info) { spdlog::info("signal {}: shutting down", info.si_signo); })
          .exclusiveJoin(httpFinished.addBranch().then([&failed](bool) {
            spdlog::error("HTTP server stopped unexpectedly");
            failed = true;
          }))
          .exclusiveJoin(ingestServer.serve(*listener).then([&failed]() { failed = true; }))
          .exclusiveJoin(readerCheckLoop(io.provider->getTimer(), env))
          .exclusiveJoin(keepAliveWhileLive(io.provider->getTimer(), notifier, liveness, rpcLoop))
          .exclusiveJoin(reloadOnSignal(io.unixEventPort, SIGHUP, notifier, [&flags, &loaded]() {
            return reloadConfig(flags, loaded);
          }));
  try {
    stop.wait(io.waitScope);
  } catch (const kj::Exception& e) {
    spdlog::error("RPC server failed: {}", e.getDescription().cStr());
    failed = true;
  }
  notifier.stopping();
  // Keep the loop turning while HTTP drains and retention ends its step (their writes run on the
  // ingest server's writer thread, which goes with the server, after them).
  httpServer.stop();
  if (retentionRunner) {  // it stays in place: a draining /metrics request may still read it
    retentionRunner->requestStop();
    retentionFinished.promise.wait(io.waitScope);
  }
  httpFinished.addBranch().ignoreResult().wait(io.waitScope);
  httpThread.join();
  spdlog::info("stopped");
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Release analysis builds ~10 MB of buffers per request: keep them in the heap instead of fresh
  // mmap()s that page-fault on every request (measured by tests/bench/analysis_bench: causes of a
  // 10,000-event release ~4x cheaper in CPU on a VM). The heap keeps up to 256 MiB free.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{"octolaunch-collector: stores what OctoLaunch agents send and serves the HTTP API"};
  app.set_version_flag("--version", std::string("octolaunch-collector ") + octolaunch::kVersion);
  Flags flags;
  app.add_option("--config", flags.config, "TOML config file")
      ->capture_default_str()
      ->each([&flags](const std::string&) { flags.configGiven = true; });
  app.add_option("--data-dir", flags.dataDir,
                 "LMDB store directory (default /var/lib/octolaunch-collector)");
  app.add_option("--rpc-listen", flags.rpcListen,
                 "agent RPC address HOST:PORT (default 127.0.0.1:7701; port 0 = any)");
  app.add_option("--http-listen", flags.httpListen,
                 "HTTP API address HOST:PORT (default 127.0.0.1:7702; port 0 = any)");
  app.add_option("--agent-token", flags.agentTokens,
                 "enrollment secret agents present once for their key (repeatable)")
      ->allow_extra_args(false);
  app.add_flag("--rpc-open", flags.rpcOpen,
               "accept agents without credentials (loopback only; as [rpc] open = true)");
  app.add_flag("--check-config", flags.checkConfig, "validate the configuration and exit");
  app.fallthrough();  // before any subcommand: they take it over when added
  CLI::App* migrate = app.add_subcommand(
      "migrate",
      "bring the store (--data-dir or [store] data_dir) to this version's format and exit; a "
      "collector does the same when it starts, this does it ahead of time with progress");
  migrate
      ->add_option("--events-per-txn", flags.migrateEventsPerTxn,
                   "events rewritten per write transaction (each one resumable)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  CLI::App* check = app.add_subcommand(
      "check",
      "check the store (--data-dir or [store] data_dir) for damage without changing it, also while "
      "a collector runs: every index entry resolves, no event lies above its agent's high-water "
      "mark, every event decodes; prints a summary, exits 0 when clean, 3 when damaged, 1 when it "
      "cannot check (docs/store-format.md)");
  check->add_flag("--repair-indexes", flags.repairIndexes,
                  "when damaged: rebuild index entries and counts from the events (never touches "
                  "events, marks or quarantine), then check again");
  CLI::App* backup = app.add_subcommand(
      "backup",
      "copy the store (--data-dir or [store] data_dir) into a new directory while a collector may "
      "be running on it: the events acknowledged before the copy began, no later ones");
  backup->add_option("--to", flags.backup.to, "the new (or empty) directory for the copy")
      ->required();
  backup->add_flag("--compact", flags.backup.compact,
                   "leave out free pages (a smaller copy; see docs/operating.md)");
  CLI::App* restore = app.add_subcommand(
      "restore",
      "put a backup in place as the store of --data-dir (or [store] data_dir); the collector "
      "must be stopped");
  restore->add_option("--from", flags.restore.from, "a directory written by backup")->required();
  restore->add_flag("--replace", flags.restore.replace,
                    "when the data dir holds a store, rename its data.mdb to "
                    "data.mdb.before-restore-<time> and restore over it");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  collector::CollectorConfig config;
  analysis::AnalysisOptions analysisOptions;
  try {
    config = configure(flags, analysisOptions);
  } catch (const collector::ConfigError& e) {
    for (const auto& issue : e.issues())
      std::cerr << "octolaunch-collector: " << issue.text() << "\n";
    return 1;
  }
  ListenerTls tls;
  try {
    tls = loadListenerTls(config);
  } catch (const tls::TlsSetupError& e) {
    std::cerr << "octolaunch-collector: " << e.what() << "\n";
    return 1;
  }
  setUpLogging(config.logLevel);
  if (flags.checkConfig) {
    std::cout << "config ok"
              << (flags.configGiven || std::filesystem::exists(flags.config)
                      ? " (" + flags.config + ")"
                      : " (defaults; " + flags.config + " not present)")
              << std::endl;
    return 0;
  }
  if (*check) {
    return runStoreCheck(config.store.dataDir, config.store.mapSize, flags.repairIndexes,
                         std::cout);
  }
  if (*migrate) {
    if (!std::filesystem::exists(config.store.dataDir / "data.mdb")) {
      spdlog::critical("no store in {} (no data.mdb): nothing to migrate",
                       config.store.dataDir.string());
      return 1;
    }
    try {
      lmdb::Env env = openCollectorEnv(config.store.dataDir, config.store.mapSize);
      const MigrationResult result = migrateWithProgress(
          env, config.store.dataDir, flags.migrateEventsPerTxn, std::chrono::seconds(1));
      std::cout << "store in " << config.store.dataDir.string() << ": format " << kStoreFormat
                << (result.fromFormat == kStoreFormat
                        ? " already"
                        : " (from format " + std::to_string(result.fromFormat) + ", " +
                              std::to_string(result.eventsRewritten) + " events rewritten)")
                << std::endl;
      return 0;
    } catch (const std::exception& e) {
      spdlog::critical("cannot migrate the store in {}: {}", config.store.dataDir.string(),
                       e.what());
      return 1;
    }
  }
  if (*backup || *restore) {
    const std::string dir = config.store.dataDir.string();
    auto say = [](const std::string& line) { spdlog::info("{}", line); };
    try {
      if (*backup) {
        BackupOptions options = flags.backup;
        options.dataDir = config.store.dataDir;
        options.mapSize = config.store.mapSize;
        options.say = say;
        std::cout << backupSummary(backupStore(options)) << std::endl;
      } else {
        RestoreOptions options = flags.restore;
        options.dataDir = config.store.dataDir;
        options.mapSize = config.store.mapSize;
        options.say = say;
        std::cout << restoreSummary(restoreStore(options)) << std::endl;
      }
      return 0;
    } catch (const std::exception& e) {
      spdlog::critical("{} {}: {}", *backup ? "cannot back up the store in" : "cannot restore into",
                       dir, e.what());
      return 1;
    }
  }
  try {
    return serve(flags, config, analysisOptions, kj::mv(tls));
  } catch (const lmdb::Error& e) {
    spdlog::critical("cannot open the store in {}: {}", config.store.dataDir.string(), e.what());
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
  } catch (const kj::Exception& e) {
    spdlog::critical("{}", e.getDescription().cStr());
  }
  return 1;
}
