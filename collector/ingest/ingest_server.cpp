#include "collector/ingest/ingest_server.h"

#include <arpa/inet.h>
#include <capnp/rpc-twoparty.h>
#include <malloc.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <thread>

#include "collector/ingest/connection_guard.h"
#include "collector/ingest/eof_watching_stream.h"
#include "shared/tls/tls_files.h"

namespace octolaunch::ingest {

namespace {

std::string peerAddress(kj::AsyncIoStream& stream) {
  sockaddr_storage addr{};
  kj::uint len = sizeof(addr);
  try {
    stream.getpeername(reinterpret_cast<sockaddr*>(&addr), &len);
  } catch (const kj::Exception&) {
    return "unknown peer";
  }
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "local peer";
}

// The encoder threads: `wanted`, or one per CPU up to 4 when 0.
std::vector<std::unique_ptr<WorkerThread>> startEncoders(unsigned wanted) {
  const unsigned n = wanted > 0 ? wanted : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::vector<std::unique_ptr<WorkerThread>> out;
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(std::make_unique<WorkerThread>("encoder-" + std::to_string(i)));
  }
  return out;
}

std::vector<WorkerThread*> pointersTo(const std::vector<std::unique_ptr<WorkerThread>>& threads) {
  std::vector<WorkerThread*> out;
  for (const auto& t : threads) out.push_back(t.get());
  return out;
}

}  // namespace

// The bootstrap of one connection: the connection's Collector, watched so that the connection
// knows when its hello() was accepted (and the limits for a stranger stop applying).
class HelloWatch final : public capnp::Capability::Server {
 public:
  HelloWatch(kj::Own<CollectorImpl> collector, kj::Own<HelloState> hello)
      : collector_(kj::mv(collector)), hello_(kj::mv(hello)) {}

  DispatchCallResult dispatchCall(
      uint64_t interfaceId, uint16_t methodId,
      capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) override {
    constexpr uint16_t kHello = 0;  // Collector.hello @0
    auto result = collector_->dispatchCall(interfaceId, methodId, context);
    if (interfaceId == capnp::typeId<schema::Collector>() && methodId == kHello) {
      result.promise =
          result.promise.then([hello = kj::addRef(*hello_)]() mutable { hello->accepted = true; });
    }
    return result;
  }

 private:
  kj::Own<CollectorImpl> collector_;
  kj::Own<HelloState> hello_;
};

// One agent connection: its stream, guard, vat network and RPC system, destroyed together.
struct IngestServer::Connection {
  Connection(kj::Own<kj::AsyncIoStream>&& s, kj::Timer& timer, kj::TimePoint accepted,
             const IngestLimits& limits, capnp::ReaderOptions options,
             kj::Own<CollectorImpl> collector)
      : stream(kj::heap<EofWatchingStream>(kj::mv(s))),
        hello(kj::refcounted<HelloState>()),
        acceptedAt(accepted),
        guard(*stream, timer, kj::addRef(*hello), limits.helloMaxBytes, limits.maxUnsentBytes),
        network(guard, capnp::rpc::twoparty::Side::SERVER, options),
        rpcSystem(capnp::makeRpcServer(network, capnp::Capability::Client(kj::heap<HelloWatch>(
                                                    kj::mv(collector), kj::addRef(*hello))))) {
    guard.watchBacklog(network);
    rpcSystem.setFlowLimit(limits.flowLimitBytes / sizeof(capnp::word));
  }
  kj::Own<EofWatchingStream> stream;
  kj::Own<HelloState> hello;
  kj::TimePoint acceptedAt;
  ConnectionGuard guard;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpcSystem;
  kj::Promise<void> watchdog = nullptr;
};

IngestServer::IngestServer(EventStore& store, AgentAccess& access, SessionTable& sessions,
                           IngestLimits limits, IngestMetrics& metrics, kj::Timer& timer,
                           const Clock& clock)
    : limits_(limits),
      metrics_(metrics),
      timer_(timer),
      encoders_(startEncoders(limits.encoderThreads)),
      queue_(store, metrics, {writer_, pointersTo(encoders_)}, clock, limits.groupCommits),
      shared_{store, queue_, access, sessions, metrics, BatchLimits{limits.maxBatchEvents}, clock},
      connections_(*this) {}

IngestServer::~IngestServer() noexcept(false) {
  // The transaction in flight may be reading pushes whose messages the connections own.
  queue_.abandon();
}

kj::Promise<void> IngestServer::serve(kj::ConnectionReceiver& listener) {
  return listener.accept().then(
      [this, &listener](kj::Own<kj::AsyncIoStream>&& stream) {
        accepted(kj::mv(stream));
        return serve(listener);
      },
      [this, &listener](kj::Exception&& e) -> kj::Promise<void> {
        // e.g. EMFILE: keep serving the connections we have and try again shortly.
        spdlog::error("accepting an RPC connection failed: {}", e.getDescription().cStr());
        return timer_.afterDelay(100 * kj::MILLISECONDS).then([this, &listener]() {
          return serve(listener);
        });
      });
}

void IngestServer::accepted(kj::Own<kj::AsyncIoStream>&& stream) {
  if (metrics_.connectionsOpen.load() >= limits_.maxConnections) {
    // Dropping the stream closes it at once: nothing is read or kept for this peer.
    metrics_.connectionsRefused++;
    if (!refusing_) {
      refusing_ = true;
      spdlog::warn("RPC connections refused: {} open, the limit ([rpc] max_connections)",
                   limits_.maxConnections);
    }
    return;
  }
  if (refusing_) {
    refusing_ = false;
    spdlog::info("RPC connections accepted again ({} open)", metrics_.connectionsOpen.load());
  }
  metrics_.connectionsAccepted++;
  metrics_.connectionsOpen++;
  std::string address = peerAddress(*stream);
  KJ_IF_MAYBE (tls, tls_) {
    handshake(*tls, kj::mv(stream), kj::mv(address), timer_.now());
  } else {
    start(kj::mv(stream), kj::mv(address), timer_.now());
  }
}

void IngestServer::handshake(kj::TlsContext& tls, kj::Own<kj::AsyncIoStream>&& stream,
                             std::string address, kj::TimePoint acceptedAt) {
  const kj::TimePoint deadline = acceptedAt + limits_.helloTimeoutMs * kj::MILLISECONDS;
  auto wrapped = tls.wrapServer(
      kj::AuthenticatedStream{kj::mv(stream), kj::UnknownPeerIdentity::newInstance()});
  auto timedOut = timer_.atTime(deadline).then([]() -> kj::AuthenticatedStream {
    kj::throwFatalException(KJ_EXCEPTION(OVERLOADED, "TLS handshake not finished in time"));
  });
  connections_.add(wrapped.exclusiveJoin(kj::mv(timedOut))
                       .then(
                           [this, address, acceptedAt](kj::AuthenticatedStream&& s) {
                             auto& id = kj::downcast<kj::TlsPeerIdentity>(*s.peerIdentity);
                             if (id.hasCertificate()) {
                               spdlog::info("RPC connection from {}: client certificate CN={}",
                                            address, id.getCommonName().cStr());
                             }
                             start(kj::mv(s.stream), address, acceptedAt);
                           },
                           [this, address, deadline](kj::Exception&& e) {
                             metrics_.connectionsOpen--;
                             metrics_.connectionsClosed++;
                             if (timer_.now() >= deadline) {
                               metrics_.countCut(CutReason::helloTimeout);
                               spdlog::info("RPC connection from {} cut: {} (in the TLS handshake)",
                                            address, cutReasonName(CutReason::helloTimeout));
                             } else {
                               metrics_.connectionsRejected++;
                               spdlog::info(
                                   "RPC connection from {} dropped: TLS handshake failed: {}",
                                   address, tls::tlsFailureText(e));
                             }
                             releaseMemorySoon();
                           }));
}

void IngestServer::start(kj::Own<kj::AsyncIoStream>&& stream, std::string address,
                         kj::TimePoint acceptedAt) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = limits_.maxMessageBytes / sizeof(capnp::word);
  options.nestingLimit = static_cast<int>(limits_.maxNesting);
  auto connection = kj::heap<Connection>(kj::mv(stream), timer_, acceptedAt, limits_, options,
                                         kj::heap<CollectorImpl>(shared_, PeerIdentity{address}));
  spdlog::debug("RPC connection from {}", address);
  Connection& c = *connection;
  c.watchdog = watch(c).eagerlyEvaluate(nullptr);
  // onDisconnect() resolves when the RpcSystem drops the connection: peer closed, a read or
  // protocol error (bad bytes, truncated or oversized message) made it abort, or the guard cut it.
  auto done =
      connection->network.onDisconnect().then([this, address, &c]() { return closed(c, address); });
  // The connection's last pushes may still be on an encoder or in a transaction on the writer
  // thread, which read them from the connection's messages: it goes once they have been
  // answered. Once it is destroyed (attach), what a dropped peer made us allocate is free.
  auto gone = done.then(
      [this](bool dropped) { return queue_.settled().then([dropped]() { return dropped; }); });
  connections_.add(gone.attach(kj::mv(connection)).then([this](bool dropped) {
    if (dropped) releaseMemorySoon();
  }));
}

kj::Promise<void> IngestServer::watch(Connection& c) {
  const kj::TimePoint now = timer_.now();
  const kj::TimePoint idleAt = c.guard.lastMessageAt() + limits_.idleTimeoutMs * kj::MILLISECONDS;
  kj::TimePoint due = idleAt;
  if (!c.hello->accepted) {
    const kj::TimePoint helloAt = c.acceptedAt + limits_.helloTimeoutMs * kj::MILLISECONDS;
    if (now >= helloAt) {
      c.guard.cut(CutReason::helloTimeout);
      return kj::READY_NOW;
    }
    due = kj::min(due, helloAt);
  }
  if (now >= idleAt) {
    c.guard.cut(CutReason::idleTimeout);
    return kj::READY_NOW;
  }
  return timer_.atTime(due).then([this, &c]() { return watch(c); });
}

void IngestServer::releaseMemorySoon() {
  if (releaseScheduled_) return;
  releaseScheduled_ = true;
  connections_.add(timer_.afterDelay(1 * kj::SECONDS).then([this]() {
    releaseScheduled_ = false;
    malloc_trim(0);
  }));
}

bool IngestServer::closed(Connection& c, const std::string& address) {
  metrics_.connectionsOpen--;
  metrics_.connectionsClosed++;
  const CutReason reason = c.guard.cutReason();
  if (reason != CutReason::none) {
    metrics_.countCut(reason);
    spdlog::info("RPC connection from {} cut: {}", address, cutReasonName(reason));
    return true;
  }
  if (!c.stream->peerClosed()) {
    // The peer had not closed its side: we dropped it for what it sent.
    metrics_.connectionsRejected++;
    spdlog::warn(
        "RPC connection from {} dropped: it sent bytes that are not a valid agent "
        "message (or over the limits, before hello at most [rpc] hello_max_bytes)",
        address);
    return true;
  }
  spdlog::debug("RPC connection from {} closed", address);
  return false;
}

void IngestServer::taskFailed(kj::Exception&& exception) {
  spdlog::warn("RPC connection task failed: {}", exception.getDescription().cStr());
}

}  // namespace octolaunch::ingest
