#include "shared/util/random_bytes.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace octolaunch {

void fillRandom(void* data, std::size_t size) {
  if (::getrandom(data, size, 0) != static_cast<ssize_t>(size)) {
    throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
  }
}

}  // namespace octolaunch
