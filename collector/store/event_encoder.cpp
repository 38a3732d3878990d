#include "collector/store/event_encoder.h"

#include <capnp/message.h>
#include <capnp/serialize-packed.h>

namespace octolaunch {

namespace {

// Appends what capnp writes to a std::string.
class AppendTo final : public kj::OutputStream {
 public:
  explicit AppendTo(std::string& out) : out_(out) {}
  void write(const void* buffer, size_t size) override {
    out_.append(static_cast<const char*>(buffer), size);
  }

 private:
  std::string& out_;
};

std::string_view textOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

}  // namespace

std::string_view EventEncoder::pack(schema::Event::Reader event, const IngestBatch* batch,
                                    std::int64_t receivedNs) {
  const std::size_t extra = batch ? (batch->agentId.size() + batch->host.size()) / 8 + 4 : 0;
  capnp::MallocMessageBuilder builder(event.totalSize().wordCount + 8 + extra);
  builder.setRoot(event);
  if (batch != nullptr) {
    auto root = builder.getRoot<schema::Event>();
    root.setReceivedNs(receivedNs);
    if (event.getAgentId().size() == 0) {
      root.setAgentId(capnp::Text::Reader(batch->agentId.data(), batch->agentId.size()));
    }
    if (event.getEpoch() == 0) root.setEpoch(batch->epoch);
    if (!batch->host.empty() && textOf(event.getHost()) != batch->host) {
      root.setHost(capnp::Text::Reader(batch->host.data(), batch->host.size()));
    }
  }
  packed_.clear();
  AppendTo out(packed_);
  capnp::writePackedMessage(out, builder);
  return packed_;
}

std::string_view EventEncoder::encode(schema::Event::Reader event, const IngestBatch& batch,
                                      std::int64_t receivedNs) {
  return codec_.encode(pack(event, &batch, receivedNs));
}

std::string_view EventEncoder::packAsReceived(schema::Event::Reader event) {
  return pack(event, nullptr, 0);
}

std::vector<std::string> EventEncoder::encodeBatch(const IngestBatch& batch,
                                                   std::int64_t receivedNs) {
  std::vector<std::string> out(batch.events.size());
  std::size_t nextNote = 0;
  for (unsigned i = 0; i < batch.events.size(); ++i) {
    if (nextNote < batch.quarantine.size() && batch.quarantine[nextNote].index == i) {
      ++nextNote;
      continue;
    }
    out[i] = encode(batch.events[i], batch, receivedNs);
  }
  return out;
}

}  // namespace octolaunch
