#include "collector/ingest/ingest_server.h"

#include <arpa/inet.h>
#include <capnp/rpc-twoparty.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "collector/ingest/eof_watching_stream.h"

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

}  // namespace

// One agent connection: its stream, vat network and RPC system, destroyed together.
struct IngestServer::Connection {
  Connection(kj::Own<kj::AsyncIoStream>&& s, capnp::ReaderOptions options,
             capnp::Capability::Client bootstrap, std::size_t flowLimitWords)
      : stream(kj::heap<EofWatchingStream>(kj::mv(s))),
        network(*stream, capnp::rpc::twoparty::Side::SERVER, options),
        rpcSystem(capnp::makeRpcServer(network, kj::mv(bootstrap))) {
    rpcSystem.setFlowLimit(flowLimitWords);
  }
  kj::Own<EofWatchingStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpcSystem;
};

IngestServer::IngestServer(EventStore& store, const TokenSet& tokens, IngestLimits limits,
                           IngestMetrics& metrics, kj::Timer& timer, const Clock& clock)
    : limits_(limits),
      metrics_(metrics),
      timer_(timer),
      queue_(store, metrics, limits.groupCommits),
      shared_{store, queue_, tokens, metrics, BatchLimits{limits.maxBatchEvents}, clock},
      connections_(*this) {}

IngestServer::~IngestServer() noexcept(false) {}

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
  metrics_.connectionsAccepted++;
  metrics_.connectionsOpen++;
  PeerIdentity peer{peerAddress(*stream)};
  capnp::ReaderOptions options;
  options.traversalLimitInWords = limits_.maxMessageBytes / sizeof(capnp::word);
  options.nestingLimit = static_cast<int>(limits_.maxNesting);
  std::string address = peer.address;
  capnp::Capability::Client bootstrap = kj::heap<CollectorImpl>(shared_, kj::mv(peer));
  auto connection = kj::heap<Connection>(kj::mv(stream), options, kj::mv(bootstrap),
                                         limits_.flowLimitBytes / sizeof(capnp::word));
  spdlog::debug("RPC connection from {}", address);
  // onDisconnect() resolves when the RpcSystem drops the connection: peer closed, or a read or
  // protocol error (bad bytes, truncated or oversized message) made it abort.
  // The peer had not closed its side: we dropped it for what it sent.
  Connection& c = *connection;
  auto done = connection->network.onDisconnect().then([this, address, &c]() {
    metrics_.connectionsOpen--;
    metrics_.connectionsClosed++;
    if (!c.stream->peerClosed()) {
      metrics_.connectionsRejected++;
      spdlog::warn(
          "RPC connection from {} dropped: it sent bytes that are not a valid agent "
          "message (or one over the limits)",
          address);
    } else {
      spdlog::debug("RPC connection from {} closed", address);
    }
  });
  connections_.add(done.attach(kj::mv(connection)));
}

void IngestServer::taskFailed(kj::Exception&& exception) {
  spdlog::warn("RPC connection task failed: {}", exception.getDescription().cStr());
}

}  // namespace octolaunch::ingest
