// Bounded polling: the one way a test waits for something another thread or process does.
#pragma once

#include <chrono>
#include <functional>

namespace octolaunch::testing {

// Calls cond until it returns true or the timeout passes, pausing `interval` between calls.
// Returns cond's last value, so a false result means the deadline passed. cond runs on the
// calling thread.
bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(20));

}  // namespace octolaunch::testing
