// The sd_notify protocol as a service manager receives it (a datagram socket of our own, named by
// path and by abstract address), and the watchdog rule: no keep-alive while a loop is stuck.
#include "shared/util/systemd_notify.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace octolaunch {
namespace {

using namespace std::chrono_literals;

// A service manager's end: a bound datagram socket; "@name" binds an abstract address.
class ManagerSocket {
 public:
  explicit ManagerSocket(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name[0] == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                               (name[0] == '@' ? 0 : 1));
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0)
        << std::strerror(errno);
    timeval tv{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~ManagerSocket() { ::close(fd_); }
  std::optional<std::string> receive() {
    char buffer[512];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }
  // True when nothing arrives within `wait`.
  bool silentFor(std::chrono::milliseconds wait) {
    timeval tv{0, static_cast<suseconds_t>(wait.count() * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return !receive().has_value();
  }

 private:
  int fd_ = -1;
};

std::string uniqueName(const std::string& stem) {
  return stem + std::to_string(::getpid()) + "-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

TEST(SystemdNotifier, SendsEachStateToAPathSocket) {
  const auto path = std::filesystem::temp_directory_path() / uniqueName("notify-");
  std::filesystem::remove(path);
  ManagerSocket manager(path.string());
  SystemdNotifier notifier(path.string(), std::nullopt);
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.ready("serving"));
  EXPECT_EQ(manager.receive(), "READY=1\nSTATUS=serving");
  EXPECT_TRUE(notifier.keepAlive());
  EXPECT_EQ(manager.receive(), "WATCHDOG=1");
  EXPECT_TRUE(notifier.reloading("reloading"));
  const auto reloading = manager.receive();
  ASSERT_TRUE(reloading);
  EXPECT_EQ(reloading->rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << *reloading;
  EXPECT_TRUE(notifier.stopping());
  EXPECT_EQ(manager.receive(), "STOPPING=1\nSTATUS=stopping");
  std::filesystem::remove(path);
}

TEST(SystemdNotifier, SendsToAnAbstractAddress) {
  const std::string name = "@" + uniqueName("octolaunch-notify-");
  ManagerSocket manager(name);
  SystemdNotifier notifier(name, std::nullopt);
  EXPECT_TRUE(notifier.status("hello"));
  EXPECT_EQ(manager.receive(), "STATUS=hello");
}

TEST(SystemdNotifier, DoesNothingWithoutASocketOrWithARelativeOne) {
  EXPECT_FALSE(SystemdNotifier("", std::nullopt).enabled());
  EXPECT_FALSE(SystemdNotifier("", std::nullopt).ready("x"));
  EXPECT_FALSE(SystemdNotifier("relative/path", std::nullopt).enabled());
}

TEST(SystemdNotifier, ReadsTheWatchdogOnlyWhenItIsForThisProcess) {
  ::setenv("WATCHDOG_USEC", "2000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(SystemdNotifier().watchdogInterval(), std::chrono::microseconds(2'000'000));
  EXPECT_EQ(livenessBeatInterval(SystemdNotifier()), 500ms);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_FALSE(SystemdNotifier().watchdogInterval());
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_FALSE(SystemdNotifier().watchdogInterval());
}

TEST(LoopLiveness, NamesTheLoopThatHasNotBeatenWithinTheWindow) {
  LoopLiveness liveness(100ms);
  LoopLiveness::Loop& rpc = liveness.add("rpc");
  LoopLiveness::Loop& http = liveness.add("http");
  const auto start = LoopLiveness::Clock::now();
  EXPECT_FALSE(liveness.staleLoop(1s, start));
  rpc.beat();
  http.beat();
  EXPECT_EQ(liveness.staleLoop(1s, LoopLiveness::Clock::now() + 2s), "rpc");
  EXPECT_EQ(http.name(), "http");
}

// The keep-alive loop on a real KJ loop: keep-alives flow while a second loop beats, stop while
// it is stuck, and resume once it beats again.
TEST(LoopLiveness, KeepAlivesStopWhileALoopIsStuckAndResumeAfter) {
  const auto path = std::filesystem::temp_directory_path() / uniqueName("notify-");
  std::filesystem::remove(path);
  ManagerSocket manager(path.string());
  const SystemdNotifier notifier(path.string(), std::chrono::microseconds(200'000));
  LoopLiveness liveness(livenessBeatInterval(notifier));  // 50 ms
  LoopLiveness::Loop& own = liveness.add("main");
  LoopLiveness::Loop& other = liveness.add("worker");

  auto io = kj::setupAsyncIo();
  kj::Timer& timer = io.provider->getTimer();
  auto keepAlive = keepAliveWhileLive(timer, notifier, liveness, own);
  auto turn = [&](kj::Duration d) { timer.afterDelay(d).wait(io.waitScope); };

  // "worker" beats: keep-alives arrive.
  for (int i = 0; i < 6; ++i) {
    other.beat();
    turn(50 * kj::MILLISECONDS);
  }
  EXPECT_EQ(manager.receive(), "WATCHDOG=1");
  while (!manager.silentFor(1ms)) {
  }
  // "worker" stops beating: after the 100 ms window no keep-alive is sent any more.
  turn(150 * kj::MILLISECONDS);
  while (!manager.silentFor(1ms)) {
  }
  turn(200 * kj::MILLISECONDS);
  EXPECT_TRUE(manager.silentFor(1ms));
  // It beats again: keep-alives resume.
  other.beat();
  turn(60 * kj::MILLISECONDS);
  EXPECT_EQ(manager.receive(), "WATCHDOG=1");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace octolaunch
