// The collector's kj::HttpService: turns each KJ request into an httplib::Request for the Router,
// enforces the body limits while reading, hands the complete request to the HandlerPool and
// writes the response back. Also the server's error handler, so the answers KJ itself gives
// (malformed requests) are JSON written through writeError() too.
//
// Contract
//  * Lives on the HTTP event-loop thread; every call comes from that loop.
//  * Never throws for what a client sent: an over-long body is 413 (from Content-Length before
//    reading, or as soon as a chunked body passes the limit), a pausing or too slow body 408, a
//    malformed chunked body or request 400, a target over 8 KiB 414; each JSON, then the
//    connection is closed. A client that goes away is DISCONNECTED and gets nothing.
#pragma once

#include <kj/compat/http.h>
#include <kj/timer.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "collector/config/http_options.h"
#include "collector/http/handler_pool.h"

namespace octolaunch::http {

// What the transport refused, for /metrics. Written on the loop thread, read from any.
struct HttpCounters {
  std::atomic<std::uint64_t> openConnections{0};
  std::atomic<std::uint64_t> refusedConnections{0};  // over maxConnections
  std::atomic<std::uint64_t> bodyTooLarge{0};
  std::atomic<std::uint64_t> bodyTooSlow{0};
  std::atomic<std::uint64_t> badRequests{0};  // malformed request line, headers or chunked body

  std::string prometheus() const;
};

class ApiHttpService final : public kj::HttpService, public kj::HttpServerErrorHandler {
 public:
  // The service for one connection (kj::HttpServer's service factory): requests go to this
  // service; after answering a request that asked for "Connection: close" it closes its side of
  // connection, which kj-http 0.9.2 would otherwise keep open for keepAliveTimeoutMs.
  kj::Own<kj::HttpService> forConnection(kj::AsyncIoStream& connection);

  // Everything must outlive the service.
  ApiHttpService(HandlerPool& pool, const HttpOptions& options, kj::Timer& timer,
                 const kj::HttpHeaderTable& headerTable, HttpCounters& counters);

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders& headers, kj::AsyncInputStream& requestBody,
                            Response& response) override;

  kj::Promise<void> handleClientProtocolError(kj::HttpHeaders::ProtocolError protocolError,
                                              Response& response) override;
  kj::Promise<void> handleApplicationError(kj::Exception exception,
                                           kj::Maybe<Response&> response) override;
  kj::Promise<void> handleNoResponse(Response& response) override;

 private:
  kj::Promise<void> send(Response& response, httplib::Response reply);
  kj::Promise<void> sendError(Response& response, int status, const std::string& message);

  HandlerPool& pool_;
  const HttpOptions& options_;
  kj::Timer& timer_;
  const kj::HttpHeaderTable& headerTable_;
  HttpCounters& counters_;
};

}  // namespace octolaunch::http
