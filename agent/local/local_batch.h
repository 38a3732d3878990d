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

// The most one batch may take (words of its message): the daemon refuses a larger one unread, so
// one connection or queue file never costs the daemon more memory than this.
inline constexpr std::size_t kMaxBatchWords = std::size_t{1} << 20;  // 8 MiB
// What a sender aims at: an append larger than this goes out as several batches.
inline constexpr std::size_t kBatchTargetWords = std::size_t{1} << 18;  // 2 MiB
inline constexpr std::uint32_t kMaxBatchEvents = 65536;
// Bytes of the random session id.
inline constexpr std::size_t kSessionBytes = 16;

using SessionId = std::array<std::uint8_t, kSessionBytes>;

// 16 random bytes (getrandom); throws std::runtime_error when the kernel has none to give.
SessionId newSessionId();

// For reading a batch from a peer or a queue file: traversal bounded by kMaxBatchWords.
capnp::ReaderOptions batchReaderOptions();

}  // namespace octolaunch::agent
