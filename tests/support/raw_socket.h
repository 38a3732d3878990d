// Plain TCP sockets for tests that speak to a port byte by byte (hostile or hand-built input).
#pragma once

#include <chrono>

namespace octolaunch::testing {

// A blocking socket connected to 127.0.0.1:port, or -1. The caller closes it.
int connectTo(int port);

// True when the peer closes fd (end of stream or reset) within the timeout; what it sends is
// read and dropped.
bool closedByPeer(int fd, std::chrono::milliseconds timeout);

}  // namespace octolaunch::testing
