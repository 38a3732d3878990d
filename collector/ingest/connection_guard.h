// The message stream of one agent connection, with the limits that hold for a peer that has not
// proved itself yet and for one that has. TwoPartyVatNetwork reads and writes through it.
//
// Contract
//  * Before the connection's hello() is accepted (HelloState::accepted), all the messages the peer
//    sends together may be at most helloMaxBytes: each read is given a traversal limit of what is
//    left of that budget, so an oversized message is refused from its segment table, before its
//    body is buffered (the read fails "Message is too large" and the RPC system drops the
//    connection). After hello, the network's own ReaderOptions apply.
//  * After every message read, the bytes queued for sending (answers the peer has not read yet)
//    are compared with maxUnsentBytes: beyond it the connection is cut (CutReason::unsentBacklog).
//  * cut() fails the pending read and write and every later one with DISCONNECTED, so the RPC
//    system ends the connection even when the peer reads nothing: a stuck write never holds it.
//  * Once reading has ended (end of stream, bad bytes, a message over the limits) the RPC system
//    flushes what it queued before it lets the connection go; writes still pending kDrain later
//    are failed too, so a peer that sends garbage and reads nothing is not kept either.
//  * lastMessageAt() is when the last whole message arrived (construction time before the first).
//  * Event-loop thread only. The stream, the timer and the network outlive the guard.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <capnp/serialize-async.h>
#include <kj/async-io.h>
#include <kj/refcount.h>

#include <cstddef>

namespace octolaunch::ingest {

// Whether the connection's hello() was accepted: shared by the guard and the bootstrap that
// watches hello(), which may finish after the connection is gone.
struct HelloState final : public kj::Refcounted {
  bool accepted = false;
};

enum class CutReason { none, helloTimeout, idleTimeout, unsentBacklog };

class ConnectionGuard final : public capnp::MessageStream {
 public:
  ConnectionGuard(kj::AsyncIoStream& stream, kj::Timer& timer, kj::Own<HelloState> hello,
                  std::size_t helloMaxBytes, std::size_t maxUnsentBytes);

  // The network whose outgoing queue is watched; set once, right after it is constructed.
  void watchBacklog(capnp::TwoPartyVatNetwork& network) { network_ = network; }

  bool helloAccepted() const { return hello_->accepted; }
  kj::TimePoint lastMessageAt() const { return lastMessageAt_; }
  CutReason cutReason() const { return cutReason_; }
  void cut(CutReason reason);

  kj::Promise<kj::Maybe<capnp::MessageReaderAndFds>> tryReadMessage(
      kj::ArrayPtr<kj::AutoCloseFd> fdSpace, capnp::ReaderOptions options,
      kj::ArrayPtr<capnp::word> scratchSpace) override;
  kj::Promise<void> writeMessage(
      kj::ArrayPtr<const int> fds,
      kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments) override;
  kj::Promise<void> writeMessages(
      kj::ArrayPtr<kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>>> messages) override;
  kj::Maybe<int> getSendBufferSize() override { return inner_.getSendBufferSize(); }
  kj::Promise<void> end() override;

  using capnp::MessageStream::tryReadMessage;
  using capnp::MessageStream::writeMessage;
  using capnp::MessageStream::writeMessages;

 private:
  void noteMessage(capnp::MessageReader& message);
  void readEnded();
  kj::Exception cutException() const;
  bool writable() const { return cutReason_ == CutReason::none && !drained_; }

  static constexpr kj::Duration kDrain = 1 * kj::SECONDS;

  capnp::AsyncIoMessageStream inner_;
  kj::Timer& timer_;
  kj::Own<HelloState> hello_;
  std::size_t helloWordsLeft_;
  std::size_t maxUnsentBytes_;
  kj::Maybe<capnp::TwoPartyVatNetwork&> network_;
  kj::TimePoint lastMessageAt_;
  CutReason cutReason_ = CutReason::none;
  bool draining_ = false;
  bool drained_ = false;  // reading ended and kDrain passed: writes fail
  kj::Promise<void> drain_ = nullptr;
  kj::Canceler canceler_;  // last: wrapped reads and writes go before the rest
};

// "hello_timeout", "idle_timeout", "unsent_backlog" (metric labels and logs).
const char* cutReasonName(CutReason reason);

}  // namespace octolaunch::ingest
