// Raw HTTP over loopback sockets, for tests and benchmarks that must send what a well-behaved
// client never would: bytes that are not UTF-8, bodies that never end, headers a byte at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace octolaunch::testing {

// A blocking TCP connection to 127.0.0.1:port; -1 when it cannot connect.
int connectTo(int port);
// True when the peer closes the connection (read returns 0 or an error) within the timeout.
bool closedByPeer(int fd, std::chrono::milliseconds timeout);
// What fd receives until the peer closes it or the timeout passes.
std::string readUntilClosed(int fd, std::chrono::milliseconds timeout);
// Writes request on a fresh connection and reads the response until the peer closes it; "" when
// it could not connect or nothing came back within the timeout.
std::string exchange(int port, const std::string& request, std::chrono::milliseconds timeout);
// "GET target" with Connection: close.
std::string getRequest(const std::string& target);

struct RawReply {
  int status = 0;  // 0: no complete status line
  std::string contentType;
  nlohmann::json body;  // discarded when the body is not JSON
};
RawReply parseReply(const std::string& response);

// Raises the soft open-file limit to at least n (up to the hard limit); false when it cannot.
bool raiseOpenFileLimit(std::size_t n);

// Current peak resident set (VmHWM) of a process in KiB; 0 when unknown.
std::size_t peakRssKiB(int pid);
// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); -1 when it cannot be read.
std::int64_t procStatusKiB(int pid, const std::string& field);

// Connections that hold an HTTP server without finishing a request: idle ones that never send a
// byte, and slow ones that send a request's headers a byte per second from a thread of their own.
class StalledClients final {
 public:
  // Throws std::runtime_error when a connection cannot be made.
  StalledClients(int port, std::size_t idle, std::size_t slow);
  ~StalledClients();
  StalledClients(const StalledClients&) = delete;
  StalledClients& operator=(const StalledClients&) = delete;

  // How many of the connections the server has closed so far.
  std::size_t closedByServer() const;

 private:
  void closeAll();

  std::vector<int> idle_;
  std::vector<int> slow_;
  std::atomic<bool> stop_ = false;
  std::thread trickle_;
};

}  // namespace octolaunch::testing
