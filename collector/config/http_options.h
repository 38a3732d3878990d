// The limits of the collector's HTTP server ([http] in collector.toml; collector_config.h reads
// them). Defaults hold 2,000 idle and 50 slow clients while /healthz is still answered.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace octolaunch::http {

// What a route needs. Each scope implies the ones before it: admin > write > read. `open` routes
// (/healthz) need no token at all.
enum class Scope { open, read, write, admin };

// One [http] tokens entry: a client presenting `token` as "Authorization: Bearer <token>" holds
// `scope`.
struct HttpToken {
  std::string token;
  Scope scope = Scope::read;
};

struct HttpOptions {
  // Handler threads: run the routes on complete requests. Clients never hold one.
  unsigned threads = 8;
  // A request body must not pause longer than this between two reads: 408, connection closed.
  unsigned readTimeoutMs = 5000;
  // A client must take its response within this, or the connection is closed.
  unsigned writeTimeoutMs = 5000;
  // A kept-alive connection with no new request for this long is closed.
  unsigned keepAliveTimeoutMs = 5000;
  // Bodies over this are refused with 413: from Content-Length before any of the body is read,
  // and while reading a chunked body as soon as it passes the limit.
  std::size_t maxBodyBytes = std::size_t{1} << 20;
  // From connection open (or the first byte of a later request) the request line and headers
  // must arrive within this, or the connection is closed.
  unsigned headerTimeoutMs = 10'000;
  // After readTimeoutMs, a body must keep arriving at this average rate: 408 otherwise. 0: only
  // the pause limit applies.
  std::size_t minBodyBytesPerSecond = 16 * 1024;
  // Open connections at most; connections beyond it are accepted and closed at once, counted.
  unsigned maxConnections = 4096;
  // Empty: the API needs no token, and the collector refuses to listen beyond loopback unless
  // allowOpen is set.
  std::vector<HttpToken> tokens;
  bool allowOpen = false;
};

}  // namespace octolaunch::http
