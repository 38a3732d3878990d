// The collector's HTTP server: KJ's event-driven HTTP/1.1 server (kj-http) on a thread of its
// own, handing complete requests to a small pool of handler threads that run the routes of
// routes/routes.h.
//
// Why not a thread per connection (cpp-httplib, before): each connection held a pool thread for
// its whole keep-alive life, so eight slow clients or a few thousand idle ones left /healthz
// unanswered, and chunked bodies were read without a limit. Here one event loop holds every
// connection; a client only ever costs a socket and its buffers, and the handler threads see
// only requests whose body has fully arrived within the limits (http_options.h).
//
// Contract
//  * bind() from any thread before run(); run() blocks the calling thread (it becomes the HTTP
//    event loop) until stop(), lets requests in flight finish (up to writeTimeoutMs), then
//    returns after the handler threads have finished.
//  * stop() from any thread, before, during or after run(), any number of times.
//  * TLS (useTls()): each connection's handshake must finish within headerTimeoutMs and holds one
//    of maxConnections; a failed or stalled one closes the connection (logged at debug).
//  * Adds the server's counters to api.metrics at construction (octolaunch_http_*, and the
//    requests by route of http_metrics.h).
#pragma once

#include <kj/async.h>
#include <kj/compat/tls.h>

#include <mutex>
#include <string>

#include "collector/config/http_options.h"
#include "collector/http/api_context.h"
#include "collector/http/api_http_service.h"
#include "collector/http/http_metrics.h"
#include "collector/http/router.h"
#include "shared/util/systemd_notify.h"

namespace octolaunch::http {

class HttpServer final {
 public:
  // api must outlive the server.
  HttpServer(ApiContext& api, const HttpOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free port; host may be an IPv6 address in brackets) and
  // returns the bound port. Throws std::runtime_error naming the address when it cannot bind.
  int bind(const std::string& host, int port);
  // Serves until stop(). Returns false if the server failed (not bound, the listener broke).
  bool run();
  void stop();
  // Serve HTTPS with this context; before run().
  void useTls(kj::Own<kj::TlsContext> tls) { tls_ = kj::mv(tls); }
  // run()'s event loop beats `loop` of `liveness` (both must outlive run()); before run().
  void beatInto(const LoopLiveness& liveness, LoopLiveness::Loop& loop) {
    liveness_ = &liveness;
    loop_ = &loop;
  }

 private:
  HttpRequestMetrics requests_;  // before router_, which counts into it
  Router router_;
  const HttpOptions options_;
  HttpCounters counters_;
  int listenFd_ = -1;
  kj::Own<kj::TlsContext> tls_;  // null: plaintext
  const LoopLiveness* liveness_ = nullptr;
  LoopLiveness::Loop* loop_ = nullptr;

  std::mutex mutex_;
  bool stopRequested_ = false;                                  // guarded by mutex_
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stopServing_;  // guarded by mutex_; in run()
};

}  // namespace octolaunch::http
