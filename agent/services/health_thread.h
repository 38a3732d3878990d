// Health probing on a thread of its own, for `octolaunch-agent run`: one object to construct after
// the spool and the shipper, and to destroy before them.
//
//   services::HealthThread health(config, *spool, clock, [&] { shipper->wakeFromAnyThread(); });
//   for (const auto& w : health.warnings()) logger->warn("{}", w);
//
// Contract: the constructor parses [service.*] (throws ServicesConfigError naming the key) and,
// when some service has a probe, starts an io_context thread running the HealthMonitor; running()
// says whether it did. The destructor (or stop()) stops the monitor on that thread and joins it.
// sink and clock must outlive the HealthThread; sink.append and wake are called on its thread.
// (When the sources' SourceSet can take extra sources, makeHealthSource() on its io_context does
// the same without a second thread.)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/services/health_source.h"
#include "agent/services/services_config.h"  // ServicesConfigError

namespace octolaunch::services {

class HealthThread final {
 public:
  HealthThread(const agent::AgentConfig& config, EventSink& sink, const Clock& clock,
               std::function<void()> wake);
  ~HealthThread();
  HealthThread(const HealthThread&) = delete;
  HealthThread& operator=(const HealthThread&) = delete;

  void stop();  // idempotent
  bool running() const { return thread_.joinable(); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  sources::asio::io_context io_;
  std::unique_ptr<sources::Source> source_;
  std::vector<std::string> warnings_;
  std::thread thread_;
};

}  // namespace octolaunch::services
