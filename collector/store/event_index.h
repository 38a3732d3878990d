// What the indexes hold for one stored event (layouts in event_keys.h): written by the store's
// commit and by the format migration, so both produce the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch {

// Whether every line the event carries is a hook.output line on stdout (what the analysis may
// skip by the index entry's tags).
bool onlyHookStdout(schema::Event::Reader event);

// A block's span: its last line's afterNs; nullopt for any other event.
std::optional<std::uint32_t> blockSpan(schema::Event::Reader event);

// The index keys' values and the tagged value every index entry starts with. The views point
// into the event (or sessionHost) and live as long as they do.
struct EventIndexEntries {
  std::int64_t timeNs = 0;
  std::string_view kind;     // idx_kind: storedKindName()
  std::string_view host;     // idx_host: the session's host, else the event's
  std::string_view release;  // idx_release; empty: the event has no entry there
  std::string tagged;        // tags(1) [span(BE4)]: the value in idx_time, idx_kind, idx_host;
                             // idx_release's is tagged + host
};

// sessionHost: the host the agent's session stands for (an enrolled agent's is its
// enrollment's); empty to take the event's own.
EventIndexEntries indexEntriesOf(schema::Event::Reader event, std::string_view sessionHost);

// Whether an index value says the event is not a block, so the index position's time is the
// event's and the event need not be read to know it. False for an untagged value (a store
// written before format 2) or a block.
bool taggedAsSingleEvent(std::string_view indexValue);

}  // namespace octolaunch
