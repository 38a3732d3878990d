// The framing `hook` and `deploy` share with the daemon (schemas/local.capnp): one LocalBatch per
// Cap'n Proto stream message, on the socket and in the fallback queue alike, and the bounds both
// sides hold a batch to.
#pragma once

#include <capnp/message.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "octolaunch/schema/local.capnp.h"

namespace octolaunch::agent {

// The most the daemon reads of one batch: its size bound, so one connection or queue file never
// costs the daemon more memory than this. The daemon names it in every LocalReply.
inline constexpr std::size_t kMaxBatchWords = std::size_t{1} << 17;  // 1 MiB
// The daemon checks, copies and stores a batch, walking it up to four times: its traversal budget.
inline constexpr std::size_t kBatchTraversalWords = 4 * kMaxBatchWords;
// What a sender aims at when the daemon names its size: that size less room for the framing.
inline constexpr std::size_t kBatchTargetWords = kMaxBatchWords - kMaxBatchWords / 16;
// What a sender aims at for a daemon that does not name its size (an older one, whose traversal
// budget was the size bound itself) and in queue files (whichever daemon imports them).
inline constexpr std::size_t kLegacyBatchTargetWords = kMaxBatchWords / 4;  // 256 KiB
inline constexpr std::uint32_t kMaxBatchEvents = 65536;
// Bytes of the random session id.
inline constexpr std::size_t kSessionBytes = 16;

using SessionId = std::array<std::uint8_t, kSessionBytes>;

// 16 random bytes (getrandom); throws std::runtime_error when the kernel has none to give.
SessionId newSessionId();

// For reading a batch from a peer or a queue file: its size bounded by kMaxBatchWords.
capnp::ReaderOptions batchReaderOptions();

// A batch as read with batchReaderOptions(), walked with the budget of kBatchTraversalWords.
// `read` must outlive it.
class BatchMessage final : public capnp::MessageReader {
 public:
  explicit BatchMessage(capnp::MessageReader& read);
  kj::ArrayPtr<const capnp::word> getSegment(capnp::uint id) override {
    return read_.getSegment(id);
  }

 private:
  capnp::MessageReader& read_;
};

}  // namespace octolaunch::agent
