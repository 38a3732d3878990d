#include "shared/event/event_kinds.h"

namespace octolaunch {

const EventKind* findKind(schema::Event::Reader event) {
  const auto payload = event.getPayload();
  const auto which = payload.which();
  for (const auto& kind : kEventKinds) {
    if (kind.payload != which) continue;
    if (!kind.resource || *kind.resource == payload.getPressure().getResource()) return &kind;
  }
  return nullptr;
}

const EventKind* findKind(schema::Event::Payload::Which payload) {
  for (const auto& kind : kEventKinds) {
    if (kind.payload == payload) return &kind;
  }
  return nullptr;
}

const EventKind* findKind(std::string_view name) {
  for (const auto& kind : kEventKinds) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::string_view kindName(schema::Event::Reader event) {
  const EventKind* kind = findKind(event);
  return kind ? kind->name : "unknown";
}

bool isKnownKind(std::string_view name) { return findKind(name) != nullptr; }

std::string_view storedKindName(schema::Event::Reader event) {
  return event.getPayload().isHookBlock() ? std::string_view("hook.output") : kindName(event);
}

bool spoolMayShed(schema::Event::Reader event) {
  const EventKind* kind = findKind(event);
  return kind && kind->shed == ShedPolicy::whenFull;
}

}  // namespace octolaunch
