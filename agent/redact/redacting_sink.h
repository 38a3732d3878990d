// An EventSink in front of another (the spool) that masks the free text of the host sources'
// events with a Redactor before passing them on: unit.failed message and last lines,
// container.failed / container.oom error, health.failed / health.recovered target (a probe URL may
// carry user:password@ or ?token=) and error. Other kinds, and events whose text needs nothing
// masked, pass through as they are.
//
// Contract: append() forwards the events in order, in one call to the next sink, and returns
// what it returns; it throws what the next sink throws.
// Threads: as thread-safe as the next sink (the redactor is immutable); no state of its own.
#pragma once

#include "agent/redact/redactor.h"
#include "shared/event/event_sink.h"

namespace octolaunch::agent {

class RedactingSink final : public EventSink {
 public:
  // next, redactor: not owned, must outlive the sink.
  RedactingSink(EventSink& next, const Redactor& redactor) : next_(next), redactor_(redactor) {}

  std::size_t append(std::span<const schema::Event::Reader> events) override;

 private:
  EventSink& next_;
  const Redactor& redactor_;
};

}  // namespace octolaunch::agent
