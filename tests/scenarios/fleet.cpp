#include "tests/scenarios/fleet.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>

#include "agent/spool/spool.h"

namespace octolaunch::testing {

using namespace std::chrono_literals;

namespace {
// Every host source off; a scenario switches on what the affected host needs.
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

// Removes the [sources.X] block of kSourcesOff for each source extraToml configures itself.
std::string sourcesOffExcept(const std::string& extraToml) {
  std::string out;
  std::string text = kSourcesOff;
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

Fleet::Fleet() : collector_({.dataDir = dir_ / "collector"}) { collector_.start(); }

Fleet::~Fleet() {
  for (auto& [host, agent] : agents_) agent->signal(SIGTERM);
  for (auto& [host, agent] : agents_) {
    if (!agent->wait(5s)) agent->kill9();
  }
}

std::vector<std::string> Fleet::agentArgs(const std::string& host) const {
  return {"--config",    configFile(host).string(), "--spool-dir", spoolDir(host).string(),
          "--agent-id",  "agent-" + host,           "--host",      host,
          "--collector", collector_.rpcAddress()};
}

void Fleet::addHost(const std::string& host, const std::string& extraToml) {
  std::filesystem::create_directories(hostDir(host));
  {
    std::ofstream config(configFile(host));
    config << "[fingerprint]\nkey = \"scenario-fleet-key-0123456789\"\n"
           << sourcesOffExcept(extraToml) << extraToml << "\n";
  }
  std::vector<std::string> argv = {binPath("octolaunch-agent"), "run"};
  auto args = agentArgs(host);
  argv.insert(argv.end(), args.begin(), args.end());
  agents_[host] = std::make_unique<Process>(
      ProcessOptions{.argv = argv, .captureStdout = false, .workDir = hostDir(host).string()});
}

HttpResult Fleet::registerRelease(const std::string& id, const std::string& service,
                                  nlohmann::json extra) {
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

int Fleet::hook(const std::string& host, const std::string& release, const std::string& service,
                const std::string& phase, const std::string& script) {
  std::vector<std::string> argv = {binPath("octolaunch-agent"), "hook"};
  auto args = agentArgs(host);
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : {std::string("--release"), release, std::string("--service"), service,
                               std::string("--phase"), phase, std::string("--"), std::string("sh"),
                               std::string("-c"), script})
    argv.push_back(a);
  return run(argv, 120s, {}, hostDir(host).string()).exitCode;
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
