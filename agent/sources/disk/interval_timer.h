// Calls a scan every interval until stopped: the timer shared by the sources that sample a kernel
// table on a fixed period (disk, fd). Thread: io_context thread only (see source.h); the scan runs
// there and must not outlive the owner, which calls stop() before it goes.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include "agent/sources/asio.h"

namespace octolaunch::sources {

class IntervalTimer final {
 public:
  IntervalTimer(asio::io_context& io, std::chrono::milliseconds interval,
                std::function<void()> scan)
      : timer_(io), interval_(interval), scan_(std::move(scan)) {}

  // The first scan comes one interval from now.
  void start() { arm(); }
  // No scan runs after this returns.
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      scan_();
      arm();
    });
  }

  asio::steady_timer timer_;
  std::chrono::milliseconds interval_;
  std::function<void()> scan_;
  bool stopped_ = false;
};

}  // namespace octolaunch::sources
