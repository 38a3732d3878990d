// Removing a secret that slipped past the agent's redaction from the stored events of a release.
//
// What is masked: every text in an event's payload, found by walking the payload's Cap'n Proto
// struct generically (capnp::DynamicStruct): hook output lines, a hook exit's command and output
// tail, unit and container messages, fingerprint names, and any text field a later payload kind
// adds, without a change here. Masking follows shared/util/pattern_mask.h: "***" for each match,
// or only its first capture group when the pattern has one.
// What is not masked: the envelope (agentId, host, service, release). Those are identifiers the
// indexes are keyed by, not free text an agent copied from a command's output; masking them would
// move the event out of its release and host.
//
// Contract
//  * purgeRelease() rewrites each event in place (same id, key, seq, position and index entries)
//    in steps of at most eventsPerStep events, each step one write transaction run through the
//    WriteSerializer: ingest commits between two steps, so it waits at most one step.
//  * A dry run examines and counts the same events and writes nothing.
//  * A purge is not atomic: a failure after some steps leaves those steps' events masked (a
//    second run with the same pattern finishes the job; masked text no longer matches unless
//    the pattern matches "***").
//  * Errors: what EventStore::rewriteRelease and WriteSerializer::run throw.
// Threads: purgeRelease() may run on any thread but the writer's own (it waits for the writer).
#pragma once

#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "collector/store/event_store.h"
#include "collector/store/write_serializer.h"

namespace octolaunch {

inline constexpr std::size_t kPurgeEventsPerStep = 1000;

// The event with every payload text masked by re, as one packed message whose root is
// schema::Event; nullopt when re matches no payload text. The bytes hold nothing of the masked
// text (the message is copied, not edited in place).
std::optional<std::string> maskedEvent(schema::Event::Reader event, const re2::RE2& re);

struct PurgeResult {
  std::uint64_t examined = 0;   // events of the release read
  std::uint64_t rewritten = 0;  // events masked (dry run: that would be masked)
};

PurgeResult purgeRelease(EventStore& store, WriteSerializer& writer, const std::string& release,
                         const re2::RE2& re, bool dryRun,
                         std::size_t eventsPerStep = kPurgeEventsPerStep);

}  // namespace octolaunch
