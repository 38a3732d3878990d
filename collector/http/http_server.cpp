#include "collector/http/http_server.h"

#include <fcntl.h>
#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <kj/io.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "collector/http/handler_pool.h"
#include "collector/http/routes/routes.h"

namespace octolaunch::http {

namespace {

// Accepts connections and serves each with server while fewer than maxConnections are open;
// beyond that a new connection is closed at once (counted; logged once per overload). A failing
// accept (out of file descriptors) is logged once and retried after a pause. Loop thread only.
class ConnectionGate final : private kj::TaskSet::ErrorHandler {
 public:
  // tls: null for plaintext; otherwise each connection's handshake gets handshakeTimeout.
  ConnectionGate(kj::HttpServer& server, kj::Timer& timer, unsigned maxConnections,
                 HttpCounters& counters, kj::TlsContext* tls, kj::Duration handshakeTimeout)
      : server_(server),
        timer_(timer),
        maxConnections_(maxConnections),
        counters_(counters),
        tls_(tls),
        handshakeTimeout_(handshakeTimeout) {}

  // Never resolves; rejects only if the listener is unusable.
  kj::Promise<void> acceptLoop(kj::ConnectionReceiver& listener) {
    return listener.accept().then(
        [this, &listener](kj::Own<kj::AsyncIoStream> connection) {
          admit(kj::mv(connection));
          return acceptLoop(listener);
        },
        [this, &listener](kj::Exception&& e) {
          if (!warnedAccept_) {
            spdlog::warn("HTTP accept failed (retrying every 100 ms): {}",
                         e.getDescription().cStr());
            warnedAccept_ = true;
          }
          return timer_.afterDelay(100 * kj::MILLISECONDS).then([this, &listener] {
            return acceptLoop(listener);
          });
        });
  }

 private:
  void admit(kj::Own<kj::AsyncIoStream> connection) {
    warnedAccept_ = false;
    if (open_ >= maxConnections_) {
      ++counters_.refusedConnections;
      if (!warnedFull_) {
        spdlog::warn("HTTP: {} connections open (max_connections): closing new ones", open_);
        warnedFull_ = true;
      }
      return;  // dropping connection closes it
    }
    if (open_ + 1 < maxConnections_ / 2) warnedFull_ = false;
    ++open_;
    counters_.openConnections.store(open_, std::memory_order_relaxed);
    kj::Promise<kj::Own<kj::AsyncIoStream>> stream =
        tls_ == nullptr
            ? kj::Promise<kj::Own<kj::AsyncIoStream>>(kj::mv(connection))
            : timer_.timeoutAfter(handshakeTimeout_, tls_->wrapServer(kj::mv(connection)));
    auto served = stream.then(
        [this](kj::Own<kj::AsyncIoStream> ready) { return server_.listenHttp(kj::mv(ready)); });
    tasks_.add(served.attach(kj::defer([this] {
      --open_;
      counters_.openConnections.store(open_, std::memory_order_relaxed);
    })));
  }

  void taskFailed(kj::Exception&& e) override {
    spdlog::debug("HTTP connection ended: {}", e.getDescription().cStr());
  }

  kj::HttpServer& server_;
  kj::Timer& timer_;
  const unsigned maxConnections_;
  HttpCounters& counters_;
  kj::TlsContext* tls_;
  kj::Duration handshakeTimeout_;
  unsigned open_ = 0;
  bool warnedFull_ = false;
  bool warnedAccept_ = false;
  kj::TaskSet tasks_{*this};
};

}  // namespace

HttpServer::HttpServer(ApiContext& api, const HttpOptions& options) : options_(options) {
  registerAllRoutes(router_, api);
  if (!options.tokens.empty()) router_.requireTokens(options.tokens);
  router_.countRequests(&requests_);
  api.metrics.push_back([this] {
    PrometheusText requests;
    requests_.write(requests);
    return counters_.prometheus() + requests.take();
  });
}

HttpServer::~HttpServer() {
  if (listenFd_ >= 0) ::close(listenFd_);
}

int HttpServer::bind(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port) + " (HTTP)";
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(bare.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error("cannot listen on " + where + ": " + ::gai_strerror(rc));
  }
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) throw std::runtime_error("cannot listen on " + where + ": " + error);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  if (listenFd_ >= 0) ::close(listenFd_);
  listenFd_ = fd;
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                           : reinterpret_cast<sockaddr_in&>(bound).sin_port);
}

bool HttpServer::run() {
  if (listenFd_ < 0) return false;
  kj::AsyncIoContext io = kj::setupAsyncIo();
  auto stopped = kj::newPromiseAndCrossThreadFulfiller<void>();
  {
    std::lock_guard lock(mutex_);
    if (stopRequested_) return true;
    stopServing_ = kj::mv(stopped.fulfiller);
  }
  // Before the loop goes away, so stop() never fulfils into a dead loop.
  KJ_DEFER({
    std::lock_guard lock(mutex_);
    stopServing_ = nullptr;
  });
  kj::Timer& timer = io.provider->getTimer();
  try {
    kj::Own<kj::ConnectionReceiver> listener = io.lowLevelProvider->wrapListenSocketFd(
        kj::AutoCloseFd(listenFd_), kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK |
                                        kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
    listenFd_ = -1;  // owned by listener now
    kj::HttpHeaderTable headerTable;
    HandlerPool pool(router_, options_.threads);
    ApiHttpService service(pool, options_, timer, headerTable, counters_);
    kj::HttpServerSettings settings;
    settings.headerTimeout = options_.headerTimeoutMs * kj::MILLISECONDS;
    settings.pipelineTimeout = options_.keepAliveTimeoutMs * kj::MILLISECONDS;
    settings.errorHandler = service;
    kj::HttpServer server(
        timer, headerTable,
        [&service](kj::AsyncIoStream& connection) { return service.forConnection(connection); },
        settings);
    ConnectionGate gate(server, timer, options_.maxConnections, counters_, tls_.get(),
                        options_.headerTimeoutMs * kj::MILLISECONDS);

    kj::Promise<void> beating =
        liveness_ != nullptr ? beatEvery(timer, *liveness_, *loop_) : kj::NEVER_DONE;
    stopped.promise.exclusiveJoin(gate.acceptLoop(*listener))
        .exclusiveJoin(kj::mv(beating))
        .wait(io.waitScope);
    // No new requests; those in flight get the write timeout to finish.
    server.drain()
        .exclusiveJoin(timer.afterDelay(options_.writeTimeoutMs * kj::MILLISECONDS))
        .wait(io.waitScope);
    // Leaving the scope closes every connection, then waits for the handler threads.
  } catch (const kj::Exception& e) {
    spdlog::error("HTTP server failed: {}", e.getDescription().cStr());
    return false;
  }
  return true;
}

void HttpServer::stop() {
  std::lock_guard lock(mutex_);
  stopRequested_ = true;
  if (stopServing_) stopServing_->fulfill();
}

}  // namespace octolaunch::http
