// Checks a pushed batch before it reaches the store: bad input from an agent is refused with an
// error naming what was wrong; it never reaches commitBatches() (whose preconditions these are).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::ingest {

inline constexpr std::size_t kMaxIdBytes = 256;  // agentId, host, service, release

struct BatchLimits {
  std::uint32_t maxEvents = 100'000;
};

// nullopt when the batch is acceptable; otherwise a one-line reason such as
// "event 3 (seq 17): seq is not above the previous seq 17".
std::optional<std::string> validateBatch(capnp::List<schema::Event>::Reader events,
                                         std::string_view agentId, std::uint64_t epoch,
                                         const BatchLimits& limits);

// Checks an identifier an agent sends (agentId, host): non-empty where required, at most
// kMaxIdBytes, no NUL byte. nullopt when fine; otherwise the reason naming `what`.
std::optional<std::string> checkIdentifier(std::string_view what, std::string_view value,
                                           bool required);

}  // namespace octolaunch::ingest
