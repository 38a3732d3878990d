// A simulated fleet for scenario tests: one real collector and one real agent per host (own agent
// id, spool dir and config file). One kernel serves them all, so kernel-wide sources (kmsg, PSI,
// file-nr) are switched on only for the agent playing the affected host.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace octolaunch::testing {

class Fleet final {
 public:
  Fleet();
  ~Fleet();

  // Adds a host whose agent daemon runs with extraToml appended to its config (sources off by
  // default: `[sources] enabled = false` unless extraToml enables some).
  void addHost(const std::string& host, const std::string& extraToml = "");
  // Registers a release over HTTP; body is merged into {"id": id, "service": service}.
  HttpResult registerRelease(const std::string& id, const std::string& service,
                             nlohmann::json extra = nlohmann::json::object());
  HttpResult reportStage(const std::string& release, nlohmann::json stage);

  int deploy(const std::string& host, const std::string& verb, const std::string& release,
             const std::string& service, const std::string& outcome = "");
  // Runs `octolaunch-agent hook` on host; returns the hook's exit code.
  int hook(const std::string& host, const std::string& release, const std::string& service,
           const std::string& phase, const std::string& script);

  // Waits until the collector has stored everything each host's spool holds right now.
  bool waitDelivered(std::chrono::milliseconds timeout);
  nlohmann::json causes(const std::string& release);
  nlohmann::json get(const std::string& path);

  CollectorProcess& collector() { return collector_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Each host's commands run with this working directory (relative paths in its config resolve
  // here).
  std::filesystem::path hostDir(const std::string& host) const { return dir_ / host; }
  std::filesystem::path spoolDir(const std::string& host) const { return dir_ / ("spool-" + host); }
  std::filesystem::path configFile(const std::string& host) const {
    return dir_ / ("agent-" + host + ".toml");
  }
  std::vector<std::string> agentArgs(const std::string& host) const;

 private:
  TempDir dir_;
  CollectorProcess collector_;
  std::map<std::string, std::unique_ptr<Process>> agents_;
};

}  // namespace octolaunch::testing
