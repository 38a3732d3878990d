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

// The most the daemon reads of one batch (the reader's traversal limit, which also bounds the
// message's size): one connection or queue file never costs the daemon more memory than this.
// The daemon reads a batch up to four times (check, copy, store), so senders aim at a quarter.
inline constexpr std::size_t kMaxBatchWords = std::size_t{1} << 17;  // 1 MiB
// What a sender aims at: an append larger than this goes out as several batches.
inline constexpr std::size_t kBatchTargetWords = kMaxBatchWords / 4;  // 256 KiB
inline constexpr std::uint32_t kMaxBatchEvents = 65536;
// Bytes of the random session id.
inline constexpr std::size_t kSessionBytes = 16;

using SessionId = std::array<std::uint8_t, kSessionBytes>;

// 16 random bytes (getrandom); throws std::runtime_error when the kernel has none to give.
SessionId newSessionId();

// For reading a batch from a peer or a queue file: traversal bounded by kMaxBatchWords.
capnp::ReaderOptions batchReaderOptions();

}  // namespace octolaunch::agent
