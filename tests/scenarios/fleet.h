// A simulated fleet for scenario tests: one real collector and one real agent per host (own agent
// id, spool dir and config file).
//
// Quiet twin: host sources are off unless the scenario switches one on for the affected host.
// Noisy twin: every host source is on for every host, with the background of background.h. One
// kernel serves all simulated hosts, so host-wide signals (PSI, file-nr, the kernel log) reach
// every host, as real noise does. What belongs to one host comes from that host's own places:
// its memory cgroup subtree (hostScope(): the agent's cgroup_scope keeps kernel reports about
// other subtrees out, as a real VM never sees its neighbours' tasks), its journal directory, its
// mounts and its working directory.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/scenarios/background.h"
#include "tests/scenarios/twin.h"
#include "tests/support/harness.h"

namespace octolaunch::testing {

class Fleet final {
 public:
  explicit Fleet(Twin twin = Twin::quiet);
  ~Fleet();

  Twin twin() const { return twin_; }
  bool noisy() const { return twin_ == Twin::noisy; }

  // Adds a host whose agent daemon runs with extraToml appended to its config. Quiet twin: every
  // host source off unless extraToml configures it. Noisy twin: every source on (a [sources.X]
  // block in extraToml replaces the default one) and the host's background noise started.
  void addHost(const std::string& host, const std::string& extraToml = "");
  // Registers a release over HTTP; body is merged into {"id": id, "service": service}. In the
  // noisy twin, first waits until the background reached every host (Background::waitWarm).
  HttpResult registerRelease(const std::string& id, const std::string& service,
                             nlohmann::json extra = nlohmann::json::object());
  HttpResult reportStage(const std::string& release, nlohmann::json stage);

  int deploy(const std::string& host, const std::string& verb, const std::string& release,
             const std::string& service, const std::string& outcome = "");
  // Runs `octolaunch-agent hook` on host; returns the hook's exit code. In the noisy twin the
  // script first prints the warnings and retried errors real deploy scripts print.
  int hook(const std::string& host, const std::string& release, const std::string& service,
           const std::string& phase, const std::string& script);

  // Waits until the collector has stored everything each host's spool holds right now.
  // The same hook, started inside a cgroup (its procs file): the hook's child starts there too.
  int hookIn(const std::filesystem::path& cgroupProcs, const std::string& host,
             const std::string& release, const std::string& service, const std::string& phase,
             const std::string& script);

  bool waitDelivered(std::chrono::milliseconds timeout);
  // The daemon observes a finished deploy (fingerprints, artifacts) after `deploy finish`
  // returns. One machine plays every host here, so a test that changes a file "on another host"
  // between two deploys first waits until host's daemon stored an event of kind.
  bool waitObserved(const std::string& host, const std::string& kind,
                    std::chrono::milliseconds timeout);
  nlohmann::json causes(const std::string& release);
  nlohmann::json get(const std::string& path);

  CollectorProcess& collector() { return collector_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Each host's commands run with this working directory (relative paths in its config resolve
  // here).
  std::filesystem::path hostDir(const std::string& host) const { return dir_ / host; }
  // Each host's spool in a directory of its own: its agent socket and fallback queue sit beside it.
  std::filesystem::path spoolDir(const std::string& host) const { return dir_ / host / "spool"; }
  std::filesystem::path configFile(const std::string& host) const {
    return dir_ / ("agent-" + host + ".toml");
  }
  std::vector<std::string> agentArgs(const std::string& host) const;
  // The memory cgroup subtree that plays the host's own cgroups (created by addHost; the
  // scenario makes its cgroups below it).
  std::filesystem::path hostScope(const std::string& host) const;
  // The directory the host's journal source reads (noisy twin, or when the scenario configures
  // it), and what writes into it.
  std::filesystem::path journalDir(const std::string& host) const {
    return dir_ / ("journal-" + host);
  }
  JournalFeed& journal(const std::string& host) { return *journals_.at(host); }

 private:
  std::string defaultSources(const std::string& host) const;
  std::vector<std::string> hookArgv(const std::string& host, const std::string& release,
                                    const std::string& service, const std::string& phase,
                                    const std::string& script) const;

  Twin twin_;
  TempDir dir_;
  CollectorProcess collector_;
  std::map<std::string, std::unique_ptr<Process>> agents_;
  std::map<std::string, std::unique_ptr<JournalFeed>> journals_;
  // Declared in teardown order's reverse: the background's cgroups go before the host scopes,
  // and those before the scope root.
  std::unique_ptr<MemoryCgroup> scopeRoot_;
  std::map<std::string, std::unique_ptr<MemoryCgroup>> hostScopes_;
  std::unique_ptr<Background> background_;
};

}  // namespace octolaunch::testing
