// The daemon's side of the local socket: where `hook` and `deploy` run by deploy users hand over
// their records (local_client.h), and the importer of the fallback queue (fallback_queue.h).
//
// Contract
//  * The socket is created mode 0666: any local user may connect, because a user can only ever add
//    records credited to itself (LocalRecords stamps the uid SO_PEERCRED reports). With a
//    socket group it is 0660 owned by that group: only its members (and the agent) may connect;
//    the daemon must be a member (the unit's SupplementaryGroups), or the constructor throws. A
//    socket file left by a daemon that died is replaced; one a running daemon answers on is not
//    (the constructor throws).
//  * Each connection is served one batch at a time: the sender waits for the reply before the next
//    batch, so a connection costs at most one batch (kMaxBatchWords, 1 MiB) of memory. Every
//    reply names that size, so that a sender fills batches up to it. A batch is
//    read within idle_timeout or the connection is closed. At most max_connections connections, and
//    max_connections_per_user per uid, are open; a connection over either bound is closed at once
//    (its sender falls back to the queue). Not bounded: the rate of a user's records, beyond the
//    spool's own bound (which sheds hook output first).
//  * A deploy batch is stored after the same user's open hook sessions have closed, or after
//    hook_wait, whichever comes first, so `deploy finish` after a hook follows that hook's lines
//    in seq order.
//  * The queue is imported when run() starts and every import_interval after; files are deleted
//    once their batches are stored (or refused for good), kept when the spool failed.
//
// Threads: everything on the KJ event loop thread of `io`.
#pragma once

#include <capnp/message.h>
#include <kj/async-io.h>
#include <spdlog/logger.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "agent/local/fallback_queue.h"
#include "agent/local/local_records.h"
#include "agent/local/peer_user.h"

namespace octolaunch::agent {

// Hand-overs that did not reach the spool as their sender meant, since the daemon started: what
// an operator needs to see that deploy users' records are being lost or diverted. A user who can
// reach neither the socket nor the queue is not here (the daemon never hears of it): its `hook`
// says so on stderr and in the system journal (local_client.h, reportLostHandOver).
struct HandOverCounts {
  std::uint64_t connectionsOverLimit = 0;  // closed at once (max_connections*): sender queues
  std::uint64_t batchesRefused = 0;        // refused for good, from the socket or the queue
  std::uint64_t batchesNotStored = 0;      // the spool failed: left to (or kept in) the queue
  std::uint64_t queueFilesDamaged = 0;     // queue files deleted unread or read only in part
};

struct LocalServerOptions {
  std::filesystem::path socket;
  std::filesystem::path queueDir;
  std::string socketGroup;  // empty: the socket is 0666; else 0660 owned by this group
  std::uint32_t maxConnections = 32;
  std::uint32_t maxConnectionsPerUser = 16;
  kj::Duration idleTimeout = 30 * kj::SECONDS;
  kj::Duration hookWait = 10 * kj::SECONDS;
  kj::Duration importInterval = 5 * kj::SECONDS;
};

class LocalServer final : private kj::TaskSet::ErrorHandler {
 public:
  // Creates the queue directory and listens on the socket. Throws std::runtime_error naming the
  // path and the reason. records: not owned, must outlive this object.
  LocalServer(kj::AsyncIoContext& io, LocalRecords& records, LocalServerOptions options,
              std::shared_ptr<spdlog::logger> logger);
  ~LocalServer();  // closes every connection and removes the socket file
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  // Imports the queue, then serves and imports every import_interval; never resolves.
  kj::Promise<void> run();
  // Imports the queue now (run() does this on its own).
  ImportStats importNow();
  // The counts so far. Any thread may call it (each count is read atomically, not all together),
  // e.g. a health report of the agent.
  HandOverCounts handOverCounts() const;

 private:
  struct Connection;
  struct User {
    std::uint32_t connections = 0;
    std::uint32_t hooks = 0;  // connections that said they are a hook
    std::vector<kj::Own<kj::PromiseFulfiller<void>>> deploysWaiting;
  };
  kj::Promise<void> acceptLoop();
  kj::Promise<void> importLoop();
  void admit(kj::Own<kj::AsyncIoStream> stream);
  kj::Promise<void> serveNext(Connection& connection);
  kj::Promise<void> answer(Connection& connection, kj::Own<capnp::MessageReader> message);
  kj::Promise<void> hooksDone(uid_t uid);
  void release(Connection& connection);
  void taskFailed(kj::Exception&& exception) override;

  kj::AsyncIoContext& io_;
  LocalRecords& records_;
  LocalServerOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  kj::Own<kj::ConnectionReceiver> listener_;
  std::uint32_t open_ = 0;
  std::map<uid_t, User> users_;
  bool warnedFull_ = false;
  unsigned importsSincePrune_ = 0;
  struct Counters {
    std::atomic<std::uint64_t> connectionsOverLimit{0};
    std::atomic<std::uint64_t> batchesRefused{0};
    std::atomic<std::uint64_t> batchesNotStored{0};
    std::atomic<std::uint64_t> queueFilesDamaged{0};
  };
  Counters counts_;    // written on the loop thread, read from any
  kj::TaskSet tasks_;  // last: destroyed (connections released) before the state above
};

}  // namespace octolaunch::agent
