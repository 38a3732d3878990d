// Where sources put the events they capture. The agent's spool implements it; tests use fakes.
#pragma once

#include <cstddef>
#include <span>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Appends events in order, in one transaction where the sink has them. The sink assigns
  // epoch and seq; agentId and host are the shipper's to fill. Returns how many were accepted
  // (the rest were shed because the sink is full; only low-value kinds are ever shed).
  // Throws std::runtime_error when the sink cannot store anything (e.g. its disk failed).
  virtual std::size_t append(std::span<const schema::Event::Reader> events) = 0;
};

}  // namespace octolaunch
