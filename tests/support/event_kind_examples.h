// An event of any kind in shared/event/event_kinds.h, built through Cap'n Proto reflection, so a
// test can walk every kind without a switch of its own that could miss one.
#pragma once

#include <capnp/dynamic.h>
#include <kj/debug.h>

#include "shared/event/event_kinds.h"

namespace octolaunch::test {

// Sets the event's payload union to the kind's member (default fields) and, for pressure.*, its
// resource.
inline void initKind(schema::Event::Builder event, const EventKind& kind) {
  capnp::DynamicStruct::Builder payload = capnp::toDynamic(event.getPayload());
  auto field = payload.getSchema().getFieldByDiscriminant(static_cast<std::uint16_t>(kind.payload));
  payload.init(KJ_ASSERT_NONNULL(field));
  if (kind.resource) event.getPayload().getPressure().setResource(*kind.resource);
}

}  // namespace octolaunch::test
