// The JSON view of an event, as the HTTP API, the CLI and `octolaunch-agent parse` print it:
// envelope fields plus the payload under "data", field names in snake_case.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "octolaunch/schema/event.capnp.h"
#include "shared/event/event_kinds.h"

namespace octolaunch {

// The payload alone: {"stream": "stdout", "line_no": 1, "line": "..."}; null for a union tag this
// build does not know.
nlohmann::json payloadJson(schema::Event::Reader event);
// {"agent_id","epoch","seq","host","time","time_ns","received_ns","kind","service","release","data"}.
// epoch is printed as 16 lower-case hex digits (it does not fit a JSON double).
nlohmann::json eventJson(schema::Event::Reader event);

std::string epochHex(std::uint64_t epoch);
std::optional<std::uint64_t> parseEpochHex(std::string_view text);

}  // namespace octolaunch
