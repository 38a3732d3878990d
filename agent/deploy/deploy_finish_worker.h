// The daemon's half of `deploy finish`: for each deploy.finish the daemon stored (from the socket
// or the fallback queue), writes the deploy record that starts the post-deploy health watch and
// records what the host now runs (deploy_observation.h), with the daemon's privileges (the
// fingerprint key, the service's files) rather than the deploy user's.
//
// Contract
//  * post() never blocks: observations run one at a time on the worker's own thread (they run
//    commands with timeouts). At most kMaxPending wait; one more is dropped with a warning.
//  * Observed when the worker gets to it: a marker imported from the queue later is observed at
//    import, not when the deploy ran.
//  * A service with env_from_process finds only its env files' variables here: the daemon's
//    environment is not the deploy's.
//  * Problems are logged as warnings; nothing throws.
//
// Threads: post() from any thread; the destructor waits for the observation in progress and drops
// the rest.
#pragma once

#include <spdlog/logger.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/config/agent_config.h"
#include "shared/event/event_sink.h"
#include "shared/util/clock.h"

namespace octolaunch::deploy {

class DeployFinishWorker final {
 public:
  static constexpr std::size_t kMaxPending = 256;
  // config, sink, clock: not owned, must outlive the worker. sink must take appends from any
  // thread (the spool does).
  DeployFinishWorker(const agent::AgentConfig& config, EventSink& sink, const Clock& clock,
                     std::shared_ptr<spdlog::logger> logger);
  ~DeployFinishWorker();
  DeployFinishWorker(const DeployFinishWorker&) = delete;
  DeployFinishWorker& operator=(const DeployFinishWorker&) = delete;

  void post(std::string service, std::string release, std::string outcome);

 private:
  struct Finished {
    std::string service;
    std::string release;
    std::string outcome;
  };
  void run();

  const agent::AgentConfig& config_;
  EventSink& sink_;
  const Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Finished> pending_;
  bool stopping_ = false;
  std::thread thread_;  // last: started when everything above is ready
};

}  // namespace octolaunch::deploy
