// The RPC side of the collector: accepts agent connections on a KJ event loop and gives each its
// own Collector bootstrap. The loop's thread is the only thread that writes events to the store.
//
// Contract
//  * Construct, serve() and destroy on the event-loop thread (kj::setupAsyncIo() in main()).
//  * Per connection: a TwoPartyVatNetwork with ReaderOptions bounded by IngestLimits, an RpcSystem
//    made with makeRpcServer() and a flow limit. Bad bytes, a truncated message or a message over
//    the limits drop that connection only — never the process.
//  * The clock stamps the answers of hello() and push() (collector_service.h); borrowed.
//  * Bounded before authentication (connection_guard.h): at most maxConnections open (more are
//    closed at once and counted as refused); a connection whose hello() is not accepted within
//    helloTimeoutMs, or that sends more than helloMaxBytes before it, is dropped. After hello:
//    no message for idleTimeoutMs, or more than maxUnsentBytes of answers the peer does not read,
//    cut the connection. A dropped connection keeps nothing: its RPC state goes with it.
//  * TLS (useTls()): every connection starts with a TLS handshake, which counts as a connection
//    (maxConnections) and toward the hello deadline; a peer that fails it (plaintext bytes, an
//    untrusted or missing client certificate) or stalls in it is dropped and counted (rejected /
//    cut hello_timeout) and logged at info. With client certificates required, the certificate's
//    common name is logged with the peer address: it names the host the CA issued it to; the
//    agent id is still what hello() claims, checked by the token.
//  * Destroying the server closes every connection; pushes not yet committed get no answer (the
//    agents keep those events and resend).
#pragma once

#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "collector/ingest/collector_service.h"
#include "collector/ingest/commit_queue.h"
#include "collector/ingest/ingest_metrics.h"
#include "collector/ingest/worker_thread.h"
#include "collector/store/event_store.h"

namespace octolaunch::ingest {

struct IngestLimits {
  std::size_t maxMessageBytes = std::size_t{64} << 20;  // traversal limit
  unsigned maxNesting = 16;
  std::size_t flowLimitBytes = std::size_t{32} << 20;
  std::uint32_t maxBatchEvents = 100'000;
  std::uint32_t maxConnections = 2048;
  std::uint32_t helloTimeoutMs = 10'000;
  std::uint32_t idleTimeoutMs = 300'000;
  std::size_t helloMaxBytes = std::size_t{64} << 10;
  std::size_t maxUnsentBytes = std::size_t{1} << 20;
  bool groupCommits = true;  // false only to measure: one transaction per batch
  // Threads that encode pushes beside the loop and the writer; 0: one per CPU, at most 4.
  unsigned encoderThreads = 0;
};

class IngestServer final : private kj::TaskSet::ErrorHandler {
 public:
  // access and sessions are borrowed (main() shares the SessionTable with the HTTP API's revoke).
  IngestServer(EventStore& store, AgentAccess& access, SessionTable& sessions, IngestLimits limits,
               IngestMetrics& metrics, kj::Timer& timer, const Clock& clock);
  ~IngestServer() noexcept(false);

  // Serve TLS with this context from now on (before serve()); it must outlive the server.
  void useTls(kj::TlsContext& tls) { tls_ = tls; }

  // Accepts connections until the promise is dropped. listener must outlive it.
  kj::Promise<void> serve(kj::ConnectionReceiver& listener);

  // The store's writer thread, where every write transaction goes (main() hands it to the
  // ThreadWriteSerializer): valid as long as the server.
  WorkerThread& writer() { return writer_; }

 private:
  struct Connection;
  void accepted(kj::Own<kj::AsyncIoStream>&& stream);
  // Runs the TLS handshake within the hello deadline, then start()s the connection.
  void handshake(kj::TlsContext& tls, kj::Own<kj::AsyncIoStream>&& stream, std::string address,
                 kj::TimePoint acceptedAt);
  // Serves an open connection (counted in connectionsOpen) whose stream carries RPC messages.
  void start(kj::Own<kj::AsyncIoStream>&& stream, std::string address, kj::TimePoint acceptedAt);
  // Cuts c when its hello or idle deadline passes; resolves then (never while c is healthy).
  kj::Promise<void> watch(Connection& c);
  // Counts and logs the end of c; true when the collector dropped it (cut or bad bytes).
  bool closed(Connection& c, const std::string& address);
  // Hands freed heap back to the system a moment after a dropped peer's connection is gone
  // (at most once a second): what it made us allocate does not stay in the RSS.
  void releaseMemorySoon();
  void taskFailed(kj::Exception&& exception) override;

  IngestLimits limits_;
  IngestMetrics& metrics_;
  kj::Timer& timer_;
  kj::Maybe<kj::TlsContext&> tls_;
  // Before queue_: they go after the queue has let go of them.
  WorkerThread writer_{"store-writer"};
  std::vector<std::unique_ptr<WorkerThread>> encoders_;
  CommitQueue queue_;
  IngestShared shared_;
  bool refusing_ = false;
  bool releaseScheduled_ = false;  // the last connection was refused (logged once per episode)
  kj::TaskSet connections_;
};

}  // namespace octolaunch::ingest
