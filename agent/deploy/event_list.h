// Events built by the deploy component before they are appended to the spool, each in its own
// small message. (Same idea as sources::EventBatch; kept here so this component does not link the
// whole sources library. Merge the two into shared/event when both have settled.)
#pragma once

#include <capnp/message.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::deploy {

class EventList final {
 public:
  // A new event with time, service and release set; the caller fills the payload.
  schema::Event::Builder add(std::int64_t timeNs, const std::string& service,
                             const std::string& release) {
    auto& message = messages_.emplace_back(std::make_unique<capnp::MallocMessageBuilder>(256u));
    auto event = message->initRoot<schema::Event>();
    event.setTimeNs(timeNs);
    event.setService(service.c_str());
    event.setRelease(release.c_str());
    return event;
  }
  std::size_t size() const { return messages_.size(); }
  bool empty() const { return messages_.empty(); }
  // Valid while the list lives and is not added to.
  std::vector<schema::Event::Reader> readers() const {
    std::vector<schema::Event::Reader> out;
    out.reserve(messages_.size());
    for (const auto& m : messages_) out.push_back(m->getRoot<schema::Event>().asReader());
    return out;
  }
  void clear() { messages_.clear(); }

 private:
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages_;
};

}  // namespace octolaunch::deploy
