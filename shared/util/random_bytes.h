// Random bytes from the kernel (getrandom), for keys, epochs and ids. getrandom() blocks only
// until the kernel's pool is first initialised. Throws std::runtime_error naming the errno when
// the kernel refuses.
#pragma once

#include <cstddef>

namespace octolaunch {

void fillRandom(void* data, std::size_t size);

}  // namespace octolaunch
