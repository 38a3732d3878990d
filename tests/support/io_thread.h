// An asio io_context running on its own thread for the life of a test, as the agent runs its
// sources and monitors. Objects bound to io() are constructed, started, stopped and destroyed on
// that thread through run(). The destructor stops the loop and joins the thread.
#pragma once

// clang-format off
#include <utility>  // g++ 12 -std=c++20: Boost.Asio needs <utility> included before it
#include <boost/asio.hpp>
// clang-format on

#include <future>
#include <thread>

namespace octolaunch::testing {

class IoThread final {
 public:
  IoThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& io() { return io_; }

  // Runs f on the io thread and returns its result (an exception f throws is rethrown here).
  // Must not be called from the io thread itself.
  template <typename F>
  auto run(F&& f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::forward<F>(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace octolaunch::testing
