// The collector's HTTP server: cpp-httplib with a sized worker pool, timeouts and a body limit,
// serving the routes of routes/routes.h.
//
// Contract
//  * bind() on the thread that will call run(); run() blocks serving until stop() (from any
//    thread) and then returns after the worker threads have finished their requests.
//  * Slow or idle clients are cut off by the read/write/keep-alive timeouts so they cannot hold
//    workers; bodies over maxBodyBytes are refused with 413.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>

#include "collector/http/api_context.h"
#include "collector/http/router.h"

namespace octolaunch::http {

struct HttpOptions {
  unsigned threads = 8;
  unsigned readTimeoutMs = 5000;
  unsigned writeTimeoutMs = 5000;
  unsigned keepAliveTimeoutMs = 5000;
  std::size_t maxBodyBytes = std::size_t{1} << 20;
};

class HttpServer final {
 public:
  // api must outlive the server.
  HttpServer(ApiContext& api, const HttpOptions& options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free port) and returns the bound port.
  // Throws std::runtime_error naming the address when it cannot bind.
  int bind(const std::string& host, int port);
  // Serves until stop(). Returns false if the server failed while listening.
  bool run();
  void stop();

 private:
  httplib::Server server_;
  Router router_;
};

}  // namespace octolaunch::http
