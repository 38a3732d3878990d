// Runs an io_context on its own thread for a test, as the agent does, and runs work on it
// synchronously (sources are constructed, started and stopped on their io thread).
#pragma once

#include <future>
#include <thread>

#include "agent/sources/asio.h"

namespace octolaunch::testing {

class IoThread final {
 public:
  IoThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  sources::asio::io_context& io() { return io_; }

  template <typename F>
  auto run(F&& f) {
    std::packaged_task<decltype(f())()> task(std::forward<F>(f));
    auto result = task.get_future();
    sources::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  sources::asio::io_context io_;
  sources::asio::executor_work_guard<sources::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace octolaunch::testing
