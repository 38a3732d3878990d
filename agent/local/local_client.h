// How `hook` and `deploy` hand their records to the daemon: an EventSink that sends each append as
// LocalBatch messages over the daemon's socket (schemas/local.capnp) and waits, a bounded time, for
// the daemon's reply that the batch is stored; when the daemon is not there, does not answer in
// time or goes away, the batches go (from then on) to a file of the fallback queue
// (fallback_queue.h), which the daemon imports later.
//
// Contract
//  * Every batch of one LocalSink carries the same random session id and increasing numbers, so a
//    batch that reaches the spool twice (stored by a daemon whose reply was lost, then queued) is
//    stored once (Spool::appendBatch).
//  * The daemon credits what it stores to this process's uid as the kernel reports it; nothing
//    sent here can claim another user.
//  * A hook session says hello when it connects (an empty batch), so that a `deploy` of the same
//    user waits for it to finish (bounded by the daemon) before its marker is stored.
//  * append() returns events.size() once the daemon or the queue took every batch; throws
//    std::runtime_error when neither did (the queue directory is missing or refuses the file).
//    A batch the daemon refused for good (LocalReply.error) is not queued: it warns once.
//  * Never raises SIGPIPE; blocks at most reply_timeout per batch on the daemon.
//  * Batches fill up to the size the daemon names in its replies (a hook learns it from the reply
//    to its hello); to a daemon that names none, and in the queue, they stay at a quarter of
//    kMaxBatchWords, which every daemon version reads. A batch already cut for the daemon that
//    then goes to the queue (the daemon stopped answering) stays as it is: the daemon that named
//    its size imports it.
//
// Threads: one thread at a time.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/local/fallback_queue.h"
#include "agent/local/local_batch.h"
#include "shared/event/event_sink.h"

namespace octolaunch::agent {

// The group whose members may hand records to the daemon (the unit's [local] socket_group).
inline constexpr std::string_view kDeployGroup = "octolaunch-deploy";

struct LocalClientOptions {
  std::filesystem::path socket;
  std::filesystem::path queueDir;
  schema::LocalBatch::Kind kind = schema::LocalBatch::Kind::HOOK;
  std::chrono::milliseconds replyTimeout{2000};
};

class LocalSink final : public EventSink {
 public:
  using Warn = std::function<void(const std::string&)>;
  // Connects now (a hook session also says hello); without a daemon, batches will be queued.
  LocalSink(LocalClientOptions options, Warn warn);
  ~LocalSink() override;
  LocalSink(const LocalSink&) = delete;
  LocalSink& operator=(const LocalSink&) = delete;

  std::size_t append(std::span<const schema::Event::Reader> events) override;
  // True while batches go to the daemon; false once they go to the queue.
  bool viaDaemon() const { return socket_ >= 0; }
  // The size append() fills batches to: just below what the daemon named in its last reply, or
  // kLegacyBatchTargetWords for a daemon that names none (an older one) and for the queue.
  std::size_t batchTargetWords() const;
  // The most a batch may take framed: what the daemon named (at most kMaxBatchWords), or
  // kMaxBatchWords, the bound of every daemon version.
  std::size_t batchLimitWords() const;
  // Batches sent so far, to the daemon or the queue (the hello not counted).
  std::uint64_t batchesSent() const { return nextBatch_ - 1; }

 private:
  void send(kj::ArrayPtr<const capnp::word> message, std::uint64_t batch);
  // True when the daemon replied that `batch` is stored (or refused it for good).
  bool exchange(kj::ArrayPtr<const capnp::word> message, std::uint64_t batch);
  void disconnect(const std::string& why);

  LocalClientOptions options_;
  Warn warn_;
  SessionId session_;
  std::uint64_t nextBatch_ = 1;
  std::uint32_t namedBatchWords_ = 0;  // LocalReply.maxBatchWords of the daemon's last reply
  int socket_ = -1;
  std::unique_ptr<QueueFile> queue_;
};

// When neither the socket nor the queue takes this user's records: the message naming what is
// lost and the fix: starting the daemon when nothing answers on the socket (ENOENT,
// ECONNREFUSED), else adding `user` to kDeployGroup.
std::string lostHandOverText(const LocalClientOptions& options, int socketError,
                             const std::string& queueError, const std::string& user);
// Says lostHandOverText() through `warn` (stderr) and to syslog (the system journal), where an
// operator sees it. Never throws.
void reportLostHandOver(const LocalClientOptions& options, int socketError,
                        const std::string& queueError, const LocalSink::Warn& warn);

}  // namespace octolaunch::agent
