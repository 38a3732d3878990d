// cpp-httplib on 127.0.0.1, port 0, answering GET /healthz with a status the test sets; counts the
// requests and lets the test wait for a number of them (with a deadline, no sleeping for luck).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/wait.h"

namespace octolaunch::testing {

class HttpTestServer final {
 public:
  explicit HttpTestServer(int status = 200) : status_(status) {
    server_.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      res.status = status_.load();
      res.set_content("state", "text/plain");
      std::lock_guard lock(mutex_);
      ++hits_;
      cv_.notify_all();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot bind a test HTTP server");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost (and join would hang): wait for it.
    if (!waitUntil([this] { return server_.is_running(); }, std::chrono::seconds(10),
                   std::chrono::milliseconds(1))) {
      server_.stop();
      thread_.join();
      throw std::runtime_error("the test HTTP server did not start listening");
    }
  }
  ~HttpTestServer() {
    server_.stop();
    thread_.join();
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/healthz"; }
  void setStatus(int status) { status_ = status; }
  int hits() {
    std::lock_guard lock(mutex_);
    return hits_;
  }
  // Waits until at least n requests were answered in all.
  bool waitForHits(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return hits_ >= n; });
  }

 private:
  httplib::Server server_;
  std::atomic<int> status_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int hits_ = 0;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace octolaunch::testing
