// Runs retention passes on a thread of their own, every [retention] interval_seconds, and keeps
// what the last ones did for GET /metrics (docs/operating.md, "Retention").
//
// Each pass first builds the evidence shield (analysing the releases registered within
// failed_release_days, on this thread), then removes in steps through the WriteSerializer
// (retention_pass.h). A pass that fails is logged and counted; the next one starts afresh. No
// exception leaves the thread.
//
// Threads: construct and destroy on the main thread. requestStop() ends the wait, or the pass
// between two steps; the thread then calls Parts::onExit. The destructor requests the stop and
// joins: while a step waits for the writer, the writer's loop must keep turning until onExit has
// been called (the collector waits for it on that loop).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "collector/retention/retention_pass.h"
#include "shared/util/clock.h"

namespace octolaunch::retention {

class RetentionRunner {
 public:
  struct Parts {
    EventStore& events;
    ReleaseStore& releases;
    releases::ReleaseService& service;
    WriteSerializer& writer;
    lmdb::Env& env;
    const Clock& clock;
    std::size_t mapSize = 0;
    std::function<void()> onExit;  // last thing the thread does (may be empty)
  };
  RetentionRunner(Parts parts, collector::RetentionSettings settings);
  ~RetentionRunner();
  RetentionRunner(const RetentionRunner&) = delete;
  RetentionRunner& operator=(const RetentionRunner&) = delete;

  void requestStop();
  // Prometheus text: passes, events removed (by age and by size), evidence kept, the last pass's
  // duration and failures.
  std::string metricsText() const;

 private:
  void loop();
  void runOnePass();

  Parts parts_;
  collector::RetentionSettings settings_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;

  std::atomic<std::uint64_t> passes_{0}, failures_{0}, deletedByAge_{0}, deletedBySize_{0},
      keptEvidence_{0}, lastPassMs_{0}, capUnmet_{0};
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace octolaunch::retention
