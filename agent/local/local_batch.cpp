#include "agent/local/local_batch.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace octolaunch::agent {

SessionId newSessionId() {
  SessionId id{};
  if (::getrandom(id.data(), id.size(), 0) != static_cast<ssize_t>(id.size()))
    throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
  return id;
}

capnp::ReaderOptions batchReaderOptions() {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kMaxBatchWords;
  options.nestingLimit = 16;
  return options;
}

}  // namespace octolaunch::agent
