// What every parser fuzz target checks beyond "no crash": an event a parser produced serialises to
// strict JSON (valid UTF-8 everywhere), the way the HTTP API and `parse` print it.
#pragma once

#include "agent/parse/container_events.h"
#include "agent/parse/oom_kill.h"
#include "agent/parse/unit_failure.h"

namespace octolaunch::parse::fuzz {

// Each aborts the process (a libFuzzer finding) when the event's JSON does not serialise strictly.
void checkOomKill(const OomKill& kill);
void checkUnitFailure(const UnitFailure& failure);
void checkContainerFailure(const ContainerFailure& failure);

}  // namespace octolaunch::parse::fuzz
