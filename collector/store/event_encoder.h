// How an event received from an agent becomes the bytes of its `events` value: stamped with the
// receive time and the session's envelope, packed, then compressed when large (event_value.h).
//
// The ingest loop encodes each push as it arrives (IngestBatch::encoded), so this work runs beside
// the writer thread's transactions instead of inside them; the store encodes in the transaction
// what arrives without it (tests, tools).
//
// Contract
//  * stamped(): agent id and epoch where the event left them out (empty / 0: the session's), the
//    host unless the session's is empty, and receivedNs; everything else as received.
//  * encode() and packAsReceived() return views into the encoder's buffers: valid until the next
//    call on the same encoder.
// Threads: one encoder per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collector/store/event_store.h"
#include "collector/store/event_value.h"

namespace octolaunch {

class EventEncoder {
 public:
  // The value to store for an event of batch, received at receivedNs.
  std::string_view encode(schema::Event::Reader event, const IngestBatch& batch,
                          std::int64_t receivedNs);
  // The packed event exactly as received (quarantine keeps it so).
  std::string_view packAsReceived(schema::Event::Reader event);

  // encode() of every event of batch that is not quarantined (those get an empty string), in
  // order: what IngestBatch::encoded holds.
  std::vector<std::string> encodeBatch(const IngestBatch& batch, std::int64_t receivedNs);

 private:
  std::string_view pack(schema::Event::Reader event, const IngestBatch* batch,
                        std::int64_t receivedNs);

  std::string packed_;
  EventValueCodec codec_;
};

}  // namespace octolaunch
