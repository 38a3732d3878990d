#include "tests/support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace octolaunch::testing {

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool closedByPeer(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return true;
    }
  }
  return false;
}

std::string exchange(int port, const std::string& request, std::chrono::milliseconds timeout) {
  int fd = connectTo(port);
  if (fd < 0) return "";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return "";
  }
  std::string response = readUntilClosed(fd, timeout);
  close(fd);
  return response;
}

std::string readUntilClosed(int fd, std::chrono::milliseconds timeout) {
  std::string received;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    received.append(buf, static_cast<std::size_t>(n));
  }
  return received;
}

std::string getRequest(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}

RawReply parseReply(const std::string& response) {
  RawReply r;
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return r;
  r.status = std::atoi(response.c_str() + 9);
  const std::size_t end = response.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::string headers = response.substr(0, end);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string key = "\r\ncontent-type: ";
  if (std::size_t at = headers.find(key); at != std::string::npos) {
    const std::size_t valueEnd = std::min(headers.find("\r\n", at + 2), headers.size());
    r.contentType = response.substr(at + key.size(), valueEnd - at - key.size());
  }
  r.body = nlohmann::json::parse(response.substr(end + 4), nullptr, false);
  return r;
}

bool raiseOpenFileLimit(std::size_t n) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= n) return true;
  if (limit.rlim_max < n) return false;
  limit.rlim_cur = n;
  return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

std::int64_t procStatusKiB(int pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::strtoll(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return -1;
}

std::size_t peakRssKiB(int pid) {
  return static_cast<std::size_t>(std::max<std::int64_t>(procStatusKiB(pid, "VmHWM"), 0));
}

StalledClients::StalledClients(int port, std::size_t idle, std::size_t slow) {
  auto open = [port, this](std::vector<int>& into) {
    int fd = connectTo(port);
    if (fd < 0) {
      closeAll();
      throw std::runtime_error("StalledClients: cannot connect");
    }
    into.push_back(fd);
  };
  for (std::size_t i = 0; i < idle; ++i) open(idle_);
  for (std::size_t i = 0; i < slow; ++i) open(slow_);
  trickle_ = std::thread([this] {
    static const std::string kHeaders = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    for (std::size_t at = 0; !stop_.load(); ++at) {
      const char byte = at < kHeaders.size() ? kHeaders[at] : 'a';  // never the blank line
      for (int fd : slow_) (void)!send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      for (int i = 0; i < 10 && !stop_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  });
}

StalledClients::~StalledClients() {
  stop_ = true;
  if (trickle_.joinable()) trickle_.join();
  closeAll();
}

void StalledClients::closeAll() {
  for (int fd : idle_) close(fd);
  for (int fd : slow_) close(fd);
  idle_.clear();
  slow_.clear();
}

std::size_t StalledClients::closedByServer() const {
  std::size_t closed = 0;
  char buf[256];
  for (const auto* fds : {&idle_, &slow_}) {
    for (int fd : *fds) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 0) > 0 && recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) <= 0) ++closed;
    }
  }
  return closed;
}

}  // namespace octolaunch::testing
