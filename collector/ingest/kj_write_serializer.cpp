#include "collector/ingest/kj_write_serializer.h"

#include <exception>
#include <stdexcept>
#include <string>

namespace octolaunch::ingest {

void KjWriteSerializer::run(const std::function<void()>& write) {
  std::exception_ptr failure;
  try {
    executor_.executeSync([&]() {
      try {
        write();
      } catch (...) {
        failure = std::current_exception();
      }
    });
  } catch (const kj::Exception& e) {
    throw std::runtime_error(std::string("the collector's writer thread has stopped: ") +
                             e.getDescription().cStr());
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace octolaunch::ingest
