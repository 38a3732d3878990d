// The event kinds, one row each: the one place that says what a kind is called, which payload
// carries it, whether the agent's spool may shed it, and what the collector's analysis makes of it.
//
// The list of payloads itself is the `payload` union of schemas/event.capnp (Cap'n Proto needs it
// there); pressure is one payload with three kinds, one per Pressure.Resource. A new kind takes a
// union member in the schema, a row here, and a case in each switch over the union tag
// (payloadJson(), the collector's fact reader; the compiler names a missing case).
// tests/unit/shared/event_kinds_test.cpp walks the schema and fails when a union member or a
// resource has no row, or when kindName() or payloadJson() does not know it; spool_test and
// analysis_test do the same for the shed policy and the fact reader.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch {

// Whether the agent's spool may shed events of the kind when it is full (counted in a later
// spool.shed). Kept kinds are stored even past the spool's bound.
enum class ShedPolicy { keep, whenFull };

// How the collector's analysis links an event that names no service to a release: by service
// (unit, container, process or cgroup matching, see service_match.h) only, or also as context
// when it happens on a host inside the release's deploy window (exhaustion of a shared host
// resource, OOM kills).
enum class Linking { byService, hostContext };

// Whether an event of the kind, on its own, says the service or its deploy is failing.
enum class FailureSignal {
  never,
  always,
  whenPayloadSays,  // hook.exit with a signal or a non-zero exit code; deploy.finish "failed"
};

struct EventKind {
  std::string_view name;                               // printed: "hook.output", "pressure.io"
  schema::Event::Payload::Which payload;               // the union member that carries it
  std::optional<schema::Pressure::Resource> resource;  // pressure.* only
  ShedPolicy shed = ShedPolicy::keep;
  Linking linking = Linking::byService;
  FailureSignal failure = FailureSignal::never;
};

// Every kind, in schema order.
inline constexpr std::array kEventKinds = [] {
  using W = schema::Event::Payload::Which;
  using R = schema::Pressure::Resource;
  using S = ShedPolicy;
  using L = Linking;
  using F = FailureSignal;
  // clang-format off
  return std::array{
    //        name                      payload                    resource   shed         linking         failure
    EventKind{"deploy.start",           W::DEPLOY_START,           {},        S::keep,     L::byService,   F::never},
    EventKind{"deploy.finish",          W::DEPLOY_FINISH,          {},        S::keep,     L::byService,   F::whenPayloadSays},
    EventKind{"hook.output",            W::HOOK_OUTPUT,            {},        S::whenFull, L::byService,   F::never},
    EventKind{"hook.exit",              W::HOOK_EXIT,              {},        S::keep,     L::byService,   F::whenPayloadSays},
    EventKind{"spool.shed",             W::SPOOL_SHED,             {},        S::keep,     L::byService,   F::never},
    EventKind{"oom.kill",               W::OOM_KILL,               {},        S::keep,     L::hostContext, F::always},
    EventKind{"pressure.memory",        W::PRESSURE,               R::MEMORY, S::whenFull, L::hostContext, F::never},
    EventKind{"pressure.cpu",           W::PRESSURE,               R::CPU,    S::whenFull, L::hostContext, F::never},
    EventKind{"pressure.io",            W::PRESSURE,               R::IO,     S::whenFull, L::hostContext, F::never},
    EventKind{"disk.full",              W::DISK_FULL,              {},        S::keep,     L::hostContext, F::never},
    EventKind{"inode.exhausted",        W::INODE_EXHAUSTED,        {},        S::keep,     L::hostContext, F::never},
    EventKind{"fd.exhausted",           W::FD_EXHAUSTED,           {},        S::keep,     L::hostContext, F::never},
    EventKind{"unit.failed",            W::UNIT_FAILED,            {},        S::keep,     L::byService,   F::always},
    EventKind{"container.failed",       W::CONTAINER_FAILED,       {},        S::keep,     L::byService,   F::always},
    EventKind{"container.oom",          W::CONTAINER_OOM,          {},        S::keep,     L::byService,   F::always},
    EventKind{"health.failed",          W::HEALTH_FAILED,          {},        S::keep,     L::byService,   F::always},
    EventKind{"health.recovered",       W::HEALTH_RECOVERED,       {},        S::keep,     L::byService,   F::never},
    EventKind{"artifact.observed",      W::ARTIFACT_OBSERVED,      {},        S::keep,     L::byService,   F::never},
    EventKind{"config.fingerprint",     W::CONFIG_FINGERPRINT,     {},        S::keep,     L::byService,   F::never},
    EventKind{"dependency.fingerprint", W::DEPENDENCY_FINGERPRINT, {},        S::keep,     L::byService,   F::never},
    EventKind{"oom.invocation",         W::OOM_INVOCATION,         {},        S::keep,     L::hostContext, F::never},
    // Lines of hook.output travelling and stored as one record; the collector's store hands each
    // line out as a hook.output event, so the API never prints this name (storedKindName()).
    EventKind{"hook.block",             W::HOOK_BLOCK,             {},        S::whenFull, L::byService,   F::never},
  };
  // clang-format on
}();

// The row of an event's kind; nullptr for a union tag this build does not know (an event from a
// newer peer).
const EventKind* findKind(schema::Event::Reader event);
// The first row of a union member. Kinds that share a payload (pressure.*) agree on every column
// but name and resource, so this answers for all of them.
const EventKind* findKind(schema::Event::Payload::Which payload);
// The row of a printed name; nullptr when no kind has that name.
const EventKind* findKind(std::string_view name);

// The printed name ("hook.output", "pressure.memory"), or "unknown" for a union tag this build
// does not know.
std::string_view kindName(schema::Event::Reader event);
bool isKnownKind(std::string_view name);
// The kind the store indexes and counts an event under: kindName(), except that a hook.block is
// its lines, which are hook.output.
std::string_view storedKindName(schema::Event::Reader event);

// True for kinds whose ShedPolicy is whenFull; false for kinds this build does not know (what
// it cannot name it keeps).
bool spoolMayShed(schema::Event::Reader event);

}  // namespace octolaunch
