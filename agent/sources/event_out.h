// How a source hands what it captured to the agent: events built into an EventBatch, then
// published to the EventSink (the spool) in one append, after which the shipper is woken.
//
// Threading: EventBatch and EventOut are used on the sources' io_context thread only.
#pragma once

#include "octolaunch/schema/event.capnp.h"
#include "shared/event/event_sink.h"
#include "shared/util/clock.h"

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace octolaunch::sources {

// Events captured in one go, each in its own small message.
class EventBatch final {
 public:
  // A new event at timeNs (UTC ns); the caller fills the payload (and service when known).
  schema::Event::Builder add(std::int64_t timeNs);
  bool empty() const { return messages_.empty(); }
  std::size_t size() const { return messages_.size(); }
  // Readers over the events, in the order they were added; valid while the batch lives.
  std::vector<schema::Event::Reader> readers();

 private:
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages_;
};

class EventOut final {
 public:
  // wake is called (on the io thread) after each successful append; it must not block.
  EventOut(EventSink& sink, const Clock& clock, std::function<void()> wake);

  // Appends the batch to the sink, wakes the shipper and clears the batch. Returns false when
  // the sink threw: the error is logged and the batch is left as it was, for the caller to
  // retry or drop.
  bool publish(EventBatch& batch);

  const Clock& clock() const { return clock_; }
  std::uint64_t published() const { return published_; }
  std::uint64_t failures() const { return failures_; }

 private:
  EventSink& sink_;
  const Clock& clock_;
  std::function<void()> wake_;
  std::uint64_t published_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace octolaunch::sources
