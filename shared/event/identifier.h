// The one limit on an event's identifiers (agent id, host, service, release, phase): what the
// collector stores (collector/ingest/batch_validator.h refuses longer ones into quarantine) and
// what the agent records (agent/hook/recordable_identifier.h cuts longer ones to fit).
#pragma once

#include <cstddef>

namespace octolaunch {

// In bytes of UTF-8, without NUL.
inline constexpr std::size_t kMaxIdentifierBytes = 256;

}  // namespace octolaunch
