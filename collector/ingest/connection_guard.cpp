#include "collector/ingest/connection_guard.h"

#include <algorithm>
#include <cstdint>

namespace octolaunch::ingest {

ConnectionGuard::ConnectionGuard(kj::AsyncIoStream& stream, kj::Timer& timer,
                                 kj::Own<HelloState> hello, std::size_t helloMaxBytes,
                                 std::size_t maxUnsentBytes)
    : inner_(stream),
      timer_(timer),
      hello_(kj::mv(hello)),
      helloWordsLeft_(helloMaxBytes / sizeof(capnp::word)),
      maxUnsentBytes_(maxUnsentBytes),
      lastMessageAt_(timer.now()) {}

const char* cutReasonName(CutReason reason) {
  switch (reason) {
    case CutReason::none:
      return "none";
    case CutReason::helloTimeout:
      return "hello_timeout";
    case CutReason::idleTimeout:
      return "idle_timeout";
    case CutReason::unsentBacklog:
      return "unsent_backlog";
  }
  return "unknown";
}

kj::Exception ConnectionGuard::cutException() const {
  if (cutReason_ == CutReason::none) {
    return kj::Exception(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__,
                         kj::str("the peer read nothing after the connection ended"));
  }
  return kj::Exception(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__,
                       kj::str("connection cut by the collector: ", cutReasonName(cutReason_)));
}

void ConnectionGuard::readEnded() {
  if (draining_) return;
  draining_ = true;
  drain_ = timer_.afterDelay(kDrain)
               .then([this]() {
                 drained_ = true;
                 canceler_.cancel(cutException());
               })
               .eagerlyEvaluate(nullptr);
}

void ConnectionGuard::cut(CutReason reason) {
  if (cutReason_ != CutReason::none) return;
  cutReason_ = reason;
  canceler_.cancel(cutException());
}

namespace {

// The words a message holds, from its segments. Not MessageReader::sizeInWords(): in Cap'n Proto
// 0.9.2 that reads the reader's arena, which exists only once getRoot() has been called, so
// before that it reads uninitialised memory (it crashed the collector).
std::uint64_t wordsIn(capnp::MessageReader& message) {
  std::uint64_t words = 0;
  for (unsigned id = 0;; ++id) {
    kj::ArrayPtr<const capnp::word> segment = message.getSegment(id);
    if (segment == nullptr) return words;
    words += segment.size();
  }
}

}  // namespace

void ConnectionGuard::noteMessage(capnp::MessageReader& message) {
  lastMessageAt_ = timer_.now();
  if (!hello_->accepted) {
    helloWordsLeft_ -= std::min<std::uint64_t>(helloWordsLeft_, wordsIn(message));
  }
  KJ_IF_MAYBE (network, network_) {
    if (network->getCurrentQueueSize() > maxUnsentBytes_) cut(CutReason::unsentBacklog);
  }
}

kj::Promise<kj::Maybe<capnp::MessageReaderAndFds>> ConnectionGuard::tryReadMessage(
    kj::ArrayPtr<kj::AutoCloseFd> fdSpace, capnp::ReaderOptions options,
    kj::ArrayPtr<capnp::word> scratchSpace) {
  if (cutReason_ != CutReason::none) return cutException();
  if (!hello_->accepted) {
    options.traversalLimitInWords =
        std::min<std::uint64_t>(options.traversalLimitInWords, helloWordsLeft_);
  }
  return canceler_.wrap(inner_.tryReadMessage(fdSpace, options, scratchSpace))
      .then([this](kj::Maybe<capnp::MessageReaderAndFds>&& message) {
        KJ_IF_MAYBE (m, message) {
          noteMessage(*m->reader);
          if (cutReason_ != CutReason::none) kj::throwFatalException(cutException());
        } else {
          readEnded();
        }
        return kj::mv(message);
      })
      .catch_([this](kj::Exception&& e) -> kj::Maybe<capnp::MessageReaderAndFds> {
        readEnded();
        kj::throwFatalException(kj::mv(e));
      });
}

kj::Promise<void> ConnectionGuard::writeMessage(
    kj::ArrayPtr<const int> fds, kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments) {
  if (!writable()) return cutException();
  return canceler_.wrap(inner_.writeMessage(fds, segments));
}

kj::Promise<void> ConnectionGuard::writeMessages(
    kj::ArrayPtr<kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>>> messages) {
  if (!writable()) return cutException();
  return canceler_.wrap(inner_.writeMessages(messages));
}

kj::Promise<void> ConnectionGuard::end() {
  if (!writable()) return kj::READY_NOW;
  return canceler_.wrap(inner_.end());
}

}  // namespace octolaunch::ingest
