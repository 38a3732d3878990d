#include "agent/local/local_server.h"

#include <capnp/serialize-async.h>
#include <capnp/serialize.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "agent/local/local_batch.h"

namespace octolaunch::agent {

namespace {

// Sessions are remembered (against a batch coming twice) this long after their last batch.
constexpr std::chrono::hours kSessionMemory{24 * 7};
// Import passes between two prunings of the remembered sessions.
constexpr unsigned kImportsPerPrune = 720;

sockaddr_un socketAddress(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path))
    throw std::runtime_error("socket path " + text + " is too long");
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

// True when a process accepts connections on path.
bool someoneListens(const sockaddr_un& address) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool answered =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return answered;
}

// The id of [local] socket_group; nullopt when none is configured. Throws std::runtime_error.
std::optional<gid_t> socketGroupId(const std::string& groupName) {
  if (groupName.empty()) return std::nullopt;
  const struct group* entry = ::getgrnam(groupName.c_str());
  if (entry == nullptr)
    throw std::runtime_error("[local] socket_group: no group named " + groupName + " on this host");
  return entry->gr_gid;
}

// The socket's mode, and its group when one is configured. Throws std::runtime_error.
void restrictTo(const std::filesystem::path& path, const std::string& groupName,
                std::optional<gid_t> group) {
  if (!group) {
    if (::chmod(path.c_str(), 0666) != 0)
      throw std::runtime_error("cannot open " + path.string() +
                               " to every local user: " + std::strerror(errno));
    return;
  }
  if (::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0 ||
      ::chmod(path.c_str(), 0660) != 0) {
    throw std::runtime_error("cannot give " + path.string() + " to group " + groupName + ": " +
                             std::strerror(errno) + " (the agent must be a member of it)");
  }
}

int listenOn(const std::filesystem::path& path) {
  const sockaddr_un address = socketAddress(path);
  auto fail = [&](const std::string& what) {
    return std::runtime_error("cannot listen on " + path.string() + ": " + what);
  };
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw fail("a file that is not a socket is in the way");
    if (someoneListens(address)) throw fail("another agent daemon answers on it");
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw fail(std::strerror(errno));
  // Nobody connects before restrictTo(): listen() comes after it.
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int e = errno;
    ::close(fd);
    throw fail(std::strerror(e));
  }
  return fd;
}

std::int64_t wallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct LocalServer::Connection {
  Connection(LocalServer& server, kj::Own<kj::AsyncIoStream> stream, PeerUser peer)
      : server(server), stream(kj::mv(stream)), peer(peer) {}
  ~Connection() { server.release(*this); }
  LocalServer& server;
  kj::Own<kj::AsyncIoStream> stream;
  PeerUser peer;
  bool hook = false;
};

LocalServer::LocalServer(kj::AsyncIoContext& io, LocalRecords& records, LocalServerOptions options,
                         std::shared_ptr<spdlog::logger> logger)
    : io_(io),
      records_(records),
      options_(std::move(options)),
      logger_(std::move(logger)),
      tasks_(*this) {
  const std::optional<gid_t> group = socketGroupId(options_.socketGroup);
  makeQueueDir(options_.queueDir, group);
  kj::AutoCloseFd fd(listenOn(options_.socket));
  restrictTo(options_.socket, options_.socketGroup, group);
  if (::listen(fd.get(), 128) != 0)
    throw std::runtime_error("cannot listen on " + options_.socket.string() + ": " +
                             std::strerror(errno));
  listener_ = io_.lowLevelProvider->wrapListenSocketFd(
      fd.release(), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                        kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK |
                        kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
}

// tasks_, the last member, goes first: every connection is released before the state it counts in.
LocalServer::~LocalServer() { ::unlink(options_.socket.c_str()); }

kj::Promise<void> LocalServer::run() {
  importNow();
  return acceptLoop().exclusiveJoin(importLoop());
}

kj::Promise<void> LocalServer::importLoop() {
  return io_.provider->getTimer().afterDelay(options_.importInterval).then([this]() {
    importNow();
    return importLoop();
  });
}

ImportStats LocalServer::importNow() {
  static_assert(kImportsPerPrune > 0);
  ImportStats stats;
  try {
    stats = importQueue(options_.queueDir, [this](uid_t owner, schema::LocalBatch::Reader batch) {
      const auto result = records_.accept(owner, batch);
      if (result.status == LocalRecords::Status::failed) {
        counts_.batchesNotStored.fetch_add(1, std::memory_order_relaxed);
        return ImportVerdict::retryLater;
      }
      if (result.status == LocalRecords::Status::refused) {
        counts_.batchesRefused.fetch_add(1, std::memory_order_relaxed);
        logger_->warn("queued records of uid {} refused: {}", owner, result.error);
      }
      return ImportVerdict::done;
    });
  } catch (const std::exception& e) {
    logger_->warn("{}", e.what());
  }
  counts_.queueFilesDamaged.fetch_add(stats.problems.size(), std::memory_order_relaxed);
  for (const auto& problem : stats.problems) logger_->warn("{}", problem);
  if (stats.files > 0)
    logger_->info("imported {} queued batches from {} files", stats.batches, stats.files);
  if (importsSincePrune_++ % kImportsPerPrune == 0) {
    const auto cutoff = wallNowNs() - std::chrono::nanoseconds(kSessionMemory).count();
    try {
      records_.forgetSessionsBefore(cutoff);
    } catch (const std::exception& e) {
      logger_->warn("cannot forget old sessions: {}", e.what());
    }
  }
  return stats;
}

HandOverCounts LocalServer::handOverCounts() const {
  return {.connectionsOverLimit = counts_.connectionsOverLimit.load(std::memory_order_relaxed),
          .batchesRefused = counts_.batchesRefused.load(std::memory_order_relaxed),
          .batchesNotStored = counts_.batchesNotStored.load(std::memory_order_relaxed),
          .queueFilesDamaged = counts_.queueFilesDamaged.load(std::memory_order_relaxed)};
}

kj::Promise<void> LocalServer::acceptLoop() {
  return listener_->accept().then([this](kj::Own<kj::AsyncIoStream> stream) {
    admit(kj::mv(stream));
    return acceptLoop();
  });
}

void LocalServer::admit(kj::Own<kj::AsyncIoStream> stream) {
  std::optional<PeerUser> peer;
  KJ_IF_MAYBE (fd, stream->getFd()) {
    peer = peerOfSocket(*fd);
  }
  if (!peer) return;  // closed: a peer the kernel does not name is nobody's
  User& user = users_[peer->uid];
  if (open_ >= options_.maxConnections || user.connections >= options_.maxConnectionsPerUser) {
    counts_.connectionsOverLimit.fetch_add(1, std::memory_order_relaxed);
    if (!warnedFull_) {
      logger_->warn(
          "local connection of uid {} closed: {} open (at most {}, {} per user); its records go "
          "to the queue",
          peer->uid, open_, options_.maxConnections, options_.maxConnectionsPerUser);
      warnedFull_ = true;
    }
    if (user.connections == 0 && user.deploysWaiting.empty()) users_.erase(peer->uid);
    return;
  }
  ++open_;
  ++user.connections;
  auto connection = kj::heap<Connection>(*this, kj::mv(stream), *peer);
  auto& ref = *connection;
  tasks_.add(serveNext(ref).attach(kj::mv(connection)));
}

kj::Promise<void> LocalServer::serveNext(Connection& connection) {
  auto read = capnp::tryReadMessage(*connection.stream, batchReaderOptions());
  return io_.provider->getTimer()
      .timeoutAfter(options_.idleTimeout, kj::mv(read))
      .then([this,
             &connection](kj::Maybe<kj::Own<capnp::MessageReader>> message) -> kj::Promise<void> {
        KJ_IF_MAYBE (m, message) {
          capnp::MessageReader& read = **m;
          return answer(connection, kj::heap<BatchMessage>(read).attach(kj::mv(*m)));
        }
        return kj::READY_NOW;  // the sender is done
      });
}

kj::Promise<void> LocalServer::answer(Connection& connection,
                                      kj::Own<capnp::MessageReader> message) {
  auto kind = message->getRoot<schema::LocalBatch>().getKind();
  if (kind == schema::LocalBatch::Kind::HOOK && !connection.hook) {
    connection.hook = true;
    ++users_[connection.peer.uid].hooks;
  }
  kj::Promise<void> ready = kj::READY_NOW;
  if (kind == schema::LocalBatch::Kind::DEPLOY) ready = hooksDone(connection.peer.uid);
  return ready.then([this, &connection, message = kj::mv(message)]() mutable -> kj::Promise<void> {
    auto batch = message->getRoot<schema::LocalBatch>();
    const auto result = records_.accept(connection.peer.uid, batch);
    auto reply = kj::heap<capnp::MallocMessageBuilder>(64u);
    auto root = reply->initRoot<schema::LocalReply>();
    root.setMaxBatchWords(static_cast<std::uint32_t>(kMaxBatchWords));
    bool goOn = true;
    switch (result.status) {
      case LocalRecords::Status::stored:
      case LocalRecords::Status::duplicate:
        root.setBatch(batch.getBatch());
        break;
      case LocalRecords::Status::refused:
        root.setBatch(batch.getBatch());
        root.setError(result.error);
        counts_.batchesRefused.fetch_add(1, std::memory_order_relaxed);
        logger_->warn("records of uid {} (pid {}) refused: {}", connection.peer.uid,
                      connection.peer.pid, result.error);
        goOn = false;
        break;
      case LocalRecords::Status::failed:
        // No batch number in the reply: the sender keeps the batch in the queue instead.
        counts_.batchesNotStored.fetch_add(1, std::memory_order_relaxed);
        logger_->warn("records of uid {} not stored, left to the queue: {}", connection.peer.uid,
                      result.error);
        goOn = false;
        break;
    }
    auto write = capnp::writeMessage(*connection.stream, *reply);
    return write.attach(kj::mv(reply)).then([this, &connection, goOn]() -> kj::Promise<void> {
      if (!goOn) return kj::READY_NOW;
      return serveNext(connection);
    });
  });
}

kj::Promise<void> LocalServer::hooksDone(uid_t uid) {
  User& user = users_[uid];
  if (user.hooks == 0) return kj::READY_NOW;
  auto waiting = kj::newPromiseAndFulfiller<void>();
  user.deploysWaiting.push_back(kj::mv(waiting.fulfiller));
  return waiting.promise.exclusiveJoin(io_.provider->getTimer().afterDelay(options_.hookWait));
}

void LocalServer::release(Connection& connection) {
  --open_;
  auto it = users_.find(connection.peer.uid);
  if (it == users_.end()) return;
  User& user = it->second;
  --user.connections;
  if (connection.hook && --user.hooks == 0) {
    for (auto& fulfiller : user.deploysWaiting) fulfiller->fulfill();
    user.deploysWaiting.clear();
  }
  if (user.connections == 0 && user.deploysWaiting.empty()) users_.erase(it);
}

void LocalServer::taskFailed(kj::Exception&& exception) {
  // A sender that went away, timed out or sent what is not a batch: its connection is closed.
  logger_->debug("local connection closed: {}", exception.getDescription().cStr());
}

}  // namespace octolaunch::agent
