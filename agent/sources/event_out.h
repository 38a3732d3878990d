// How a source hands what it captured to the agent: events built into an EventBatch, then
// published to the EventSink (the spool) in one append. The shipper sees the append on the spool
// itself (it watches the spool's file); nothing here calls it.
//
// Nothing captured is dropped because the spool failed once (disk full, I/O error): EventOut holds
// the events it could not append, in order, and appends them before anything newer on the next
// publish (SourceSet retries every second while events are held). Sources that remember a read
// position (kmsg sequence, journal cursor) save it only while nothing is held, so an agent stopped
// while holding reads those records again. At most kMaxHeld events are held; beyond that the
// oldest are dropped and counted (dropped()).
//
// Every event published is first tagged with its configured service (ServiceMap::tag) when
// EventOut was given a ServiceMap: the one place Event.service is set for the host sources.
//
// Threading: EventBatch and EventOut are used on the sources' io_context thread only.
#pragma once

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agent/sources/cgroup_scope.h"
#include "agent/sources/service_map.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/event/event_sink.h"
#include "shared/util/clock.h"

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
  // Moves other's events after this batch's; other is left empty.
  void append(EventBatch&& other);
  // Keeps only the events keep() returns true for, in order.
  void keepIf(const std::function<bool(schema::Event::Reader)>& keep);
  // Drops the n oldest events.
  void dropOldest(std::size_t n);
  // Calls f(schema::Event::Builder) for each event, in order.
  template <typename F>
  void forEach(F&& f) {
    for (auto& message : messages_) f(message->getRoot<schema::Event>());
  }

 private:
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages_;
};

class EventOut final {
 public:
  static constexpr std::size_t kMaxHeld = 10'000;

  // onHold is called (on the io thread) after each failed append, to arrange a retry (publish()
  // of an empty batch); it must not block.
  // services (may be null; must outlive EventOut) tags what is published.
  explicit EventOut(EventSink& sink, const Clock& clock, std::function<void()> onHold = {},
                    const ServiceMap* services = nullptr);

  // Events outside the scope are not published (counted in outOfScope()).
  void setScope(CgroupScope scope) { scope_ = std::move(scope); }

  // Takes the batch's events (the batch is left empty) and appends every held event, then these,
  // in one append. Returns false when the sink threw: the events are held.
  bool publish(EventBatch& batch);
  // Events captured but not yet in the spool.
  bool holding() const { return !held_.empty(); }

  const Clock& clock() const { return clock_; }
  std::uint64_t published() const { return published_; }
  std::uint64_t failures() const { return failures_; }  // failed appends since the last success
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t outOfScope() const { return outOfScope_; }

 private:
  EventSink& sink_;
  const Clock& clock_;
  std::function<void()> onHold_;
  const ServiceMap* services_;
  EventBatch held_;
  std::uint64_t published_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t dropped_ = 0;
  CgroupScope scope_;
  std::uint64_t outOfScope_ = 0;
};

}  // namespace octolaunch::sources
