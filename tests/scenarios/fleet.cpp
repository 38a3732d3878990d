#include "tests/scenarios/fleet.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "agent/spool/spool.h"
#include "tests/scenarios/replace_all.h"

namespace octolaunch::testing {

using namespace std::chrono_literals;

namespace {
// Quiet twin: every host source off; a scenario switches on what the affected host needs.
constexpr const char* kSourcesOff = R"(
[sources.kmsg]
enabled = false
[sources.cgroup]
enabled = false
[sources.psi]
enabled = false
[sources.disk]
enabled = false
[sources.fd]
enabled = false
[sources.journal]
enabled = false
[sources.containers]
enabled = false
)";

// Noisy twin: every host source on. @JOURNAL@ is the host's journal directory, @SCOPE@ its
// memory cgroup subtree. The container source stays off: no container runtime runs beside the
// fleet (the container scenarios run their own).
constexpr const char* kSourcesOn = R"(
[sources.kmsg]
enabled = true
recover_previous_boot = false
[sources.cgroup]
enabled = true
slices = []
cgroups = ["@SCOPE@/batch-worker.service"]
poll_interval_ms = 500
[sources.psi]
enabled = true
[sources.disk]
enabled = true
interval_ms = 1000
[sources.fd]
enabled = true
[sources.journal]
enabled = true
directory = "@JOURNAL@"
[sources.containers]
enabled = false
)";

// An unrelated service on every noisy host, whose probe blips (background.h). @FLAG@ is the file
// whose presence fails it.
constexpr const char* kNoisyService = R"(
[service.batch]
units = ["batch-worker.service"]
health_interval_seconds = 1
health = [{ type = "command", command = "test ! -e @FLAG@", timeout_ms = 2000 }]
)";

// What a deploy script prints on a busy day before it gets to its real work.
constexpr const char* kNoisyPreamble =
    "echo 'warning: config key \"pool_timeout\" is deprecated'; "
    "echo 'ERROR: connection to cache:6379 reset, retrying (1/3)' >&2; "
    "echo 'retry ok'; ";

bool memcgWritable() {
  return ::access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) == 0 &&
         std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
}

// Removes each [sources.X] block of text that extraToml configures itself.
std::string blocksExcept(const std::string& text, const std::string& extraToml) {
  std::string out;
  std::size_t pos = 0;
  while ((pos = text.find("[sources.", pos)) != std::string::npos) {
    std::size_t end = text.find("[sources.", pos + 1);
    std::string block = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    std::string header = block.substr(0, block.find('\n'));
    if (extraToml.find(header) == std::string::npos) out += block;
    pos = end == std::string::npos ? text.size() : end;
  }
  return out;
}
}  // namespace

Fleet::Fleet(Twin twin) : twin_(twin), collector_({.dataDir = dir_ / "collector"}) {
  if (memcgWritable()) scopeRoot_ = std::make_unique<MemoryCgroup>(newCgroupScope(), 0);
  if (noisy()) {
    if (std::string why = noiseUnavailable(); !why.empty())
      throw std::runtime_error("the noisy twin cannot run here: " + why);
    background_ = std::make_unique<Background>(dir_.path());
  }
  collector_.start();
}

Fleet::~Fleet() {
  for (auto& [host, agent] : agents_) agent->signal(SIGTERM);
  for (auto& [host, agent] : agents_) {
    if (!agent->wait(5s)) agent->kill9();
  }
}

std::vector<std::string> Fleet::agentArgs(const std::string& host) const {
  std::filesystem::create_directories(spoolDir(host).parent_path());
  return {"--config",    configFile(host).string(), "--spool-dir", spoolDir(host).string(),
          "--agent-id",  "agent-" + host,           "--host",      host,
          "--collector", collector_.rpcAddress()};
}

std::filesystem::path Fleet::hostScope(const std::string& host) const {
  auto it = hostScopes_.find(host);
  if (it == hostScopes_.end())
    throw std::runtime_error("no memory cgroup scope for " + host + " (needs root, cgroup v1)");
  return it->second->path();
}

std::string Fleet::defaultSources(const std::string& host) const {
  if (!noisy()) return kSourcesOff;
  return replaceAll(replaceAll(kSourcesOn, "@JOURNAL@", journalDir(host).string()), "@SCOPE@",
                    hostScopes_.at(host)->name());
}

void Fleet::addHost(const std::string& host, const std::string& extraToml) {
  std::filesystem::create_directories(hostDir(host));
  if (journalFeedUnavailable().empty()) {
    journals_[host] = std::make_unique<JournalFeed>(journalDir(host));
  } else {
    std::filesystem::create_directories(journalDir(host));
  }
  if (scopeRoot_) hostScopes_[host] = std::make_unique<MemoryCgroup>(scopeRoot_->path() / host, 0);
  if (background_)
    background_->addHost(hostScope(host), *journals_[host], hostDir(host) / "batch-down");
  {
    std::ofstream config(configFile(host));
    // One fleet key, as the docs tell operators to set, unless the scenario sets its own.
    if (extraToml.find("[fingerprint]") == std::string::npos)
      config << "[fingerprint]\nkey = \"scenario-fleet-key-0123456789\"\n";
    if (scopeRoot_) config << "[sources]\ncgroup_scope = \"" << hostScopes_[host]->name() << "\"\n";
    config << blocksExcept(defaultSources(host), extraToml);
    if (noisy())
      config << replaceAll(kNoisyService, "@FLAG@", (hostDir(host) / "batch-down").string());
    config << extraToml << "\n";
  }
  std::vector<std::string> argv = {binPath("octolaunch-agent"), "run"};
  auto args = agentArgs(host);
  argv.insert(argv.end(), args.begin(), args.end());
  agents_[host] = std::make_unique<Process>(
      ProcessOptions{.argv = argv, .captureStdout = false, .workDir = hostDir(host).string()});
}

HttpResult Fleet::registerRelease(const std::string& id, const std::string& service,
                                  nlohmann::json extra) {
  if (background_ && !background_->waitWarm(60s))
    throw std::runtime_error("the background noise did not start within 60 s");
  extra["id"] = id;
  extra["service"] = service;
  return httpPost(collector_.httpPort(), "/api/v1/releases", extra.dump());
}

HttpResult Fleet::reportStage(const std::string& release, nlohmann::json stage) {
  return httpPost(collector_.httpPort(), "/api/v1/releases/" + release + "/stages", stage.dump());
}

int Fleet::deploy(const std::string& host, const std::string& verb, const std::string& release,
                  const std::string& service, const std::string& outcome) {
  std::vector<std::string> argv = {binPath("octolaunch-agent"), "deploy", verb};
  auto args = agentArgs(host);
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a :
       {std::string("--release"), release, std::string("--service"), service})
    argv.push_back(a);
  if (!outcome.empty()) {
    argv.push_back("--outcome");
    argv.push_back(outcome);
  }
  RunResult r = run(argv, 30s, {}, hostDir(host).string());
  if (r.exitCode != 0) throw std::runtime_error("deploy " + verb + " failed: " + r.err);
  return r.exitCode;
}

std::vector<std::string> Fleet::hookArgv(const std::string& host, const std::string& release,
                                         const std::string& service, const std::string& phase,
                                         const std::string& script) const {
  std::vector<std::string> argv = {binPath("octolaunch-agent"), "hook"};
  auto args = agentArgs(host);
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : {std::string("--release"), release, std::string("--service"), service,
                               std::string("--phase"), phase, std::string("--"), std::string("sh"),
                               std::string("-c"), noisy() ? kNoisyPreamble + script : script})
    argv.push_back(a);
  return argv;
}

int Fleet::hook(const std::string& host, const std::string& release, const std::string& service,
                const std::string& phase, const std::string& script) {
  return run(hookArgv(host, release, service, phase, script), 120s, {}, hostDir(host).string())
      .exitCode;
}

int Fleet::hookIn(const std::filesystem::path& cgroupProcs, const std::string& host,
                  const std::string& release, const std::string& service, const std::string& phase,
                  const std::string& script) {
  std::vector<std::string> argv = {"sh", "-c", "echo $$ > \"$0\" && exec \"$@\"",
                                   cgroupProcs.string()};
  auto hook = hookArgv(host, release, service, phase, script);
  argv.insert(argv.end(), hook.begin(), hook.end());
  return run(argv, 120s, {}, hostDir(host).string()).exitCode;
}

bool Fleet::waitObserved(const std::string& host, const std::string& kind,
                         std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] { return !get("/api/v1/events?kind=" + kind + "&host=" + host)["events"].empty(); },
      timeout);
}

bool Fleet::waitDelivered(std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        for (const auto& [host, agent] : agents_) {
          auto spool = agent::Spool::open({.dir = spoolDir(host)});
          if (spool->pendingCount() != 0) return false;
        }
        return true;
      },
      timeout);
}

nlohmann::json Fleet::causes(const std::string& release) {
  return get("/api/v1/releases/" + release + "/causes");
}

nlohmann::json Fleet::get(const std::string& path) {
  HttpResult r = httpGet(collector_.httpPort(), path);
  if (r.status != 200)
    throw std::runtime_error("GET " + path + ": " + std::to_string(r.status) + " " + r.raw);
  return r.body;
}

}  // namespace octolaunch::testing
