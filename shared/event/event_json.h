// The JSON view of an event, as the HTTP API, the CLI and `octolaunch-agent parse` print it:
// envelope fields plus the payload under "data", field names in snake_case.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch {

// "hook.output", "pressure.memory", ... (DESIGN.md's names).
std::string kindName(schema::Event::Reader event);
// Every kind name that kindName() can return, for validating filters.
std::span<const std::string_view> allKindNames();
bool isKnownKind(std::string_view name);

// The payload alone: {"stream": "stdout", "line_no": 1, "line": "..."}.
nlohmann::json payloadJson(schema::Event::Reader event);
// {"agent_id","epoch","seq","host","time","time_ns","received_ns","kind","service","release","data"}.
// epoch is printed as 16 lower-case hex digits (it does not fit a JSON double).
nlohmann::json eventJson(schema::Event::Reader event);

std::string epochHex(std::uint64_t epoch);
std::optional<std::uint64_t> parseEpochHex(std::string_view text);

// Events that the spool may shed when full (output lines, pressure samples).
bool isLowValue(schema::Event::Reader event);

}  // namespace octolaunch
