#include "agent/local/local_batch.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "shared/util/random_bytes.h"

namespace octolaunch::agent {

SessionId newSessionId() {
  SessionId id{};
  fillRandom(id.data(), id.size());
  return id;
}

capnp::ReaderOptions batchReaderOptions() {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kMaxBatchWords;
  options.nestingLimit = 16;
  return options;
}

namespace {
capnp::ReaderOptions batchTraversalOptions() {
  capnp::ReaderOptions options = batchReaderOptions();
  options.traversalLimitInWords = kBatchTraversalWords;
  return options;
}
}  // namespace

BatchMessage::BatchMessage(capnp::MessageReader& read)
    : capnp::MessageReader(batchTraversalOptions()), read_(read) {}

}  // namespace octolaunch::agent
