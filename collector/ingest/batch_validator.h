// Judges a pushed batch before it reaches the store (commitBatches()' preconditions are these).
// A batch whose shape is wrong (too many events, another agent's or epoch's events, seqs not
// increasing) is refused whole (an event may leave agentId empty and epoch 0: they are the
// session's, the "sessionEnvelope" of rpc.capnp), with an error naming what was wrong. An event
// whose content is wrong (an over-long or NUL-bearing id, an unknown payload kind) does not take
// its neighbours down: it is named for quarantine and the rest of the batch is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/store/event_store.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/event/identifier.h"

namespace octolaunch::ingest {

inline constexpr std::size_t kMaxIdBytes = kMaxIdentifierBytes;  // agentId, host, service, release

struct BatchLimits {
  std::uint32_t maxEvents = 100'000;
};

struct BatchVerdict {
  // Set when the whole batch is refused: a one-line reason such as
  // "event 3 (seq 17): seq is not above the previous seq 17".
  std::optional<std::string> refused;
  // The events to quarantine, ordered by index, each with its reason ("release is longer than
  // 256 bytes"). Empty when refused.
  std::vector<QuarantineNote> quarantine;
};

BatchVerdict validateBatch(capnp::List<schema::Event>::Reader events, std::string_view agentId,
                           std::uint64_t epoch, const BatchLimits& limits);

// nullopt when the event's content may be stored and indexed; otherwise why it may not.
std::optional<std::string> checkEventContent(schema::Event::Reader event);

// Checks an identifier an agent sends (agentId, host): non-empty where required, at most
// kMaxIdBytes, no NUL byte. nullopt when fine; otherwise the reason naming `what`.
std::optional<std::string> checkIdentifier(std::string_view what, std::string_view value,
                                           bool required);

}  // namespace octolaunch::ingest
