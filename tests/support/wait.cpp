#include "tests/support/wait.h"

#include <thread>

namespace octolaunch::testing {

bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);  // the poll interval; the deadline bounds the wait
  }
}

}  // namespace octolaunch::testing
