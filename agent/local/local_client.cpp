#include "agent/local/local_client.h"

#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace octolaunch::agent {

namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// A connected, blocking socket with send and receive timeouts; -1 (errno set) when it cannot be.
int connectTo(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval tv = toTimeval(timeout);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

// The batch's events, framed. sizeHint: their words; the message is built in one segment of
// that size (and a little more), so no far pointer makes it larger than its parts.
kj::Array<capnp::word> encode(const SessionId& session, std::uint64_t number,
                              schema::LocalBatch::Kind kind,
                              std::span<const schema::Event::Reader> events, std::size_t sizeHint) {
  constexpr std::size_t kRootWords = 64;  // the batch's own fields and the list's tag
  capnp::MallocMessageBuilder message(static_cast<capnp::uint>(sizeHint + kRootWords));
  auto batch = message.initRoot<schema::LocalBatch>();
  batch.setSession(kj::arrayPtr(session.data(), session.size()));
  batch.setBatch(number);
  batch.setKind(kind);
  auto list = batch.initEvents(static_cast<unsigned>(events.size()));
  for (std::size_t i = 0; i < events.size(); ++i)
    list.setWithCaveats(static_cast<unsigned>(i), events[i]);
  return capnp::messageToFlatArray(message);
}

}  // namespace

std::string lostHandOverText(const LocalClientOptions& options, int socketError,
                             const std::string& queueError, const std::string& user) {
  const std::string lost =
      "; the command still runs, but its output and exit status are NOT "
      "recorded. Fix: ";
  // No socket file, or nobody listening on it: the daemon is not running (or not installed),
  // and group membership would not help.
  if (socketError == ENOENT || socketError == ECONNREFUSED) {
    return "cannot hand over records: no agent daemon answers at " + options.socket.string() +
           " (" + std::strerror(socketError) + ") and the fallback queue is not writable (" +
           queueError + ")" + lost +
           "start the agent daemon (systemctl start octolaunch-agent), which creates both";
  }
  return "cannot hand over records: the agent socket " + options.socket.string() + " refused " +
         user + " (" + std::strerror(socketError) + ") and the fallback queue is not writable (" +
         queueError + ")" + lost + "add " + user + " to group " + std::string(kDeployGroup) +
         " (usermod -aG " + std::string(kDeployGroup) + " " + user + ", then log in again)";
}

void reportLostHandOver(const LocalClientOptions& options, int socketError,
                        const std::string& queueError, const LocalSink::Warn& warn) {
  std::string user = "uid " + std::to_string(::getuid());
  if (const passwd* entry = ::getpwuid(::getuid())) user = entry->pw_name;
  const std::string text = lostHandOverText(options, socketError, queueError, user);
  warn(text);
  // Where an operator sees it: the system journal (journalctl -t octolaunch-agent -p warning).
  ::openlog("octolaunch-agent", LOG_PID, LOG_USER);
  ::syslog(LOG_WARNING, "%s", text.c_str());
  ::closelog();
}

LocalSink::LocalSink(LocalClientOptions options, Warn warn)
    : options_(std::move(options)), warn_(std::move(warn)), session_(newSessionId()) {
  socket_ = connectTo(options_.socket, options_.replyTimeout);
  if (socket_ < 0) {
    const int socketError = errno;  // before warn_ (a write to stderr) can change it
    // Said now, while the caller's stderr is still the terminal (a hook detaches later).
    warn_("the agent daemon is not reachable at " + options_.socket.string() + " (" +
          std::strerror(socketError) + "); keeping the records in " + options_.queueDir.string() +
          " for it");
    // Created (and locked) now, so that the importer waits for this writer from the start.
    try {
      queue_ = std::make_unique<QueueFile>(options_.queueDir);
    } catch (const std::exception& e) {
      warn_(e.what());  // append() tries again, and throws
      reportLostHandOver(options_, socketError, e.what(), warn_);
    }
    return;
  }
  if (options_.kind == schema::LocalBatch::Kind::HOOK) {
    // Hello: batch 0, no events. The daemon counts this hook as recording from now on.
    auto hello = encode(session_, 0, options_.kind, {}, 0);
    if (!exchange(hello, 0)) disconnect("it did not answer");
  }
}

LocalSink::~LocalSink() {
  if (socket_ >= 0) ::close(socket_);
}

std::size_t LocalSink::append(std::span<const schema::Event::Reader> events) {
  // Cut into batches the daemon takes: about batchTargetWords(), at most kMaxBatchEvents, and
  // never more than the daemon reads once framed (halved until it fits; a single event is sent
  // as it is).
  const std::size_t target = batchTargetWords();
  const std::size_t limit = batchLimitWords();
  std::size_t first = 0;
  while (first < events.size()) {
    std::size_t end = first;
    std::size_t words = 0;
    while (end < events.size() && end - first < kMaxBatchEvents &&
           (end == first || words + events[end].totalSize().wordCount <= target)) {
      words += events[end].totalSize().wordCount;
      ++end;
    }
    auto message =
        encode(session_, nextBatch_, options_.kind, events.subspan(first, end - first), words);
    while (message.size() > limit && end - first > 1) {
      end = first + (end - first) / 2;
      words = 0;
      for (std::size_t i = first; i < end; ++i) words += events[i].totalSize().wordCount;
      message =
          encode(session_, nextBatch_, options_.kind, events.subspan(first, end - first), words);
    }
    const std::uint64_t number = nextBatch_++;
    send(message, number);
    first = end;
  }
  return events.size();
}

std::size_t LocalSink::batchLimitWords() const {
  if (socket_ < 0 || namedBatchWords_ == 0) return kMaxBatchWords;
  return std::min<std::size_t>(namedBatchWords_, kMaxBatchWords);
}

std::size_t LocalSink::batchTargetWords() const {
  if (socket_ < 0 || namedBatchWords_ == 0) return kLegacyBatchTargetWords;
  const std::size_t limit = batchLimitWords();
  return std::max(limit - limit / 16, std::size_t{1});
}

void LocalSink::send(kj::ArrayPtr<const capnp::word> message, std::uint64_t batch) {
  if (socket_ >= 0) {
    if (exchange(message, batch)) return;
    disconnect("it did not store them in time");
  }
  if (!queue_) queue_ = std::make_unique<QueueFile>(options_.queueDir);
  queue_->write(message);
}

bool LocalSink::exchange(kj::ArrayPtr<const capnp::word> message, std::uint64_t batch) {
  const auto bytes = message.asBytes();
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(socket_, bytes.begin() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  try {
    kj::FdInputStream in(socket_);
    capnp::InputStreamMessageReader reader(in);
    auto reply = reader.getRoot<schema::LocalReply>();
    namedBatchWords_ = reply.getMaxBatchWords();
    if (reply.hasError()) {
      warn_(std::string("the agent daemon refused the records: ") + reply.getError().cStr());
      return true;
    }
    return reply.getBatch() == batch;
  } catch (const kj::Exception&) {
    return false;  // timed out, or the daemon went away
  }
}

void LocalSink::disconnect(const std::string& why) {
  ::close(socket_);
  socket_ = -1;
  warn_("the agent daemon took no more records (" + why + "); keeping the rest in " +
        options_.queueDir.string() + " for it");
}

}  // namespace octolaunch::agent
