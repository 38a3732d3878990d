// One run of a configured health probe, asynchronous on the agent's Boost.Asio io_context:
//  * http: GET the URL (Boost.Beast, HTTP/1.1, plain TCP); healthy when the status is
//  expect_status;
//  * tcp: connect to HOST:PORT; healthy when the connection is accepted;
//  * command: `/bin/sh -c COMMAND` in its own process group, as the probe's run_as user (a probe
//    that cannot switch to it fails with the reason and does not run); healthy when it exits 0.
// Every run ends within the probe's timeout (the command's process group is killed then).
//
// Contract: run() calls `done` exactly once, on the io_context's thread, never from inside run().
// A probe that cannot even start (bad URL, fork failure) reports a failed result, it does not
// throw. cancelAll() makes every run in flight finish promptly with error "cancelled".
//
// Threads: construct, run() and cancelAll() on the io_context's thread only. The prober must
// outlive the runs it started: after cancelAll(), let the io_context run their handlers (or stop
// and destroy the io_context) before destroying it.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "agent/services/services_config.h"
#include "agent/sources/asio.h"

namespace octolaunch::sources {

struct ProbeResult {
  bool healthy = false;
  std::string status;  // http: the status code ("200"); tcp: "connected"; command: the exit code
  std::string error;   // empty when healthy: "expected status 200, got 503", "connect ...:
                       // Connection refused"
  std::uint64_t latencyMs = 0;
};

class HealthProber {
 public:
  virtual ~HealthProber() = default;
  using Done = std::function<void(ProbeResult)>;
  virtual void run(const services::HealthProbeConfig& probe, Done done) = 0;
  virtual void cancelAll() = 0;
};

class AsioHealthProber final : public HealthProber {
 public:
  explicit AsioHealthProber(asio::io_context& io) : io_(io) {}
  ~AsioHealthProber() override;
  void run(const services::HealthProbeConfig& probe, Done done) override;
  void cancelAll() override;

  // Something in flight that cancelAll() can stop early.
  class Operation {
   public:
    virtual ~Operation() = default;
    virtual void cancel() = 0;
  };

 private:
  asio::io_context& io_;
  // Runs in flight. Each run's state is a shared_ptr because its async handlers (several per run,
  // on sockets, timers and descriptors) keep it alive until the last one has run; this list holds
  // weak references only, for cancelAll().
  std::list<std::weak_ptr<Operation>> running_;
};

}  // namespace octolaunch::sources
