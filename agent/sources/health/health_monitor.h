// The daemon's post-deploy health watch: runs each service's configured probes and records
// health.failed / health.recovered when a probe's outcome CHANGES, tagged with the service and the
// release last deployed there.
//
// Schedule: every health_interval (slow, default 60 s) from start; after a deploy.finish for the
// service, at once and then every health_watch_interval (default 5 s) for health_watch (default
// 5 min), then slow again.
//
// Learning of deploys: `octolaunch-agent deploy finish` writes <spool>/deploys/<service>
// (agent/services/deploy_record.h); the monitor watches that directory with inotify (an asio stream
// descriptor) and reads existing records at start (a deploy that finished less than health_watch
// ago, e.g. while the daemon restarted, still gets its watch period). deployFinished() is the same
// entry for callers that learn of deploys otherwise.
//
// Change semantics: each probe starts "unknown"; a failure from unknown or healthy emits
// health.failed, a success after a failure emits health.recovered, nothing else emits. A new
// deploy of the service resets its probes to unknown (so a failure that persists across a deploy
// is reported again, for the new release), and results of runs started before it are ignored.
// Events go out through the sources' EventOut, which holds what the spool refuses and appends it
// later, so a change is recorded once even when the spool is briefly unwritable.
//
// Threads: a sources::Source: everything runs on the sources' io_context thread; construct,
// start(), stop() and destroy it there too (handlers still queued after its destruction do
// nothing).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/services/deploy_record.h"
#include "agent/services/services_config.h"
#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/health/health_probe.h"
#include "agent/sources/source.h"

namespace octolaunch::sources {

struct HealthMonitorStats {
  std::uint64_t runs = 0;
  std::uint64_t failedEvents = 0;
  std::uint64_t recoveredEvents = 0;
  std::uint64_t heldEvents = 0;  // published while the spool refused them (EventOut holds them)
  std::uint64_t deploysSeen = 0;
};

class HealthMonitor final : public Source {
 public:
  // services: those without probes are ignored. deploysDir: usually services::deploysDir(spool
  // dir); it is created (2770) when missing. prober and out must outlive the monitor.
  HealthMonitor(asio::io_context& io, std::vector<services::ServiceConfig> services,
                HealthProber& prober, EventOut& out, std::filesystem::path deploysDir);
  ~HealthMonitor() override;

  std::string_view name() const override { return "health"; }
  // False when no service has a probe (nothing to do). Without a usable deploys directory it logs
  // once and still probes on the slow interval.
  bool start() override;
  void stop() override;

  void deployFinished(const services::DeployRecord& record);
  const HealthMonitorStats& stats() const { return stats_; }

 private:
  enum class State { unknown, healthy, failing };
  struct ServiceState;
  struct ProbeState {
    ServiceState* service = nullptr;
    services::HealthProbeConfig config;
    std::unique_ptr<asio::steady_timer> timer;
    State state = State::unknown;
    bool running = false;
    bool runAgainAtOnce = false;
    std::uint64_t timerGeneration = 0;
  };
  struct ServiceState {
    services::ServiceConfig config;
    std::string release;
    std::int64_t lastDeployNs = 0;
    std::uint64_t deployGeneration = 0;
    std::chrono::steady_clock::time_point watchUntil{};
    std::vector<std::unique_ptr<ProbeState>> probes;
  };

  void schedule(ProbeState& probe, std::chrono::milliseconds delay);
  void runProbe(ProbeState& probe);
  void onResult(ProbeState& probe, std::uint64_t deployGeneration, const ProbeResult& result);
  void emit(ProbeState& probe, bool failed, const ProbeResult& result);
  std::chrono::milliseconds nextDelay(const ProbeState& probe) const;
  ServiceState* findService(const std::string& name);

  bool watchDeploys();
  void readInotify();
  void readRecord(const std::string& fileName);
  void rescanRecords(bool atStart);
  void applyRecord(const services::DeployRecord& record, bool atStart);

  asio::io_context& io_;
  HealthProber& prober_;
  EventOut& out_;
  std::filesystem::path deploysDir_;
  std::vector<std::unique_ptr<ServiceState>> services_;
  asio::posix::stream_descriptor inotify_;
  std::array<char, 8192> inotifyBuffer_{};
  bool stopped_ = false;
  HealthMonitorStats stats_;
  // Handlers hold a weak reference to this token and do nothing once it is gone: a prober's
  // completion or an already-fired timer may still be queued when the monitor is destroyed.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace octolaunch::sources
