#include "shared/util/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace octolaunch {

namespace {

std::optional<std::uint64_t> envNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::chrono::microseconds> watchdogFromEnvironment() {
  auto usec = envNumber("WATCHDOG_USEC");
  if (!usec || *usec == 0) return std::nullopt;
  if (auto pid = envNumber("WATCHDOG_PID"); pid && *pid != static_cast<std::uint64_t>(::getpid()))
    return std::nullopt;
  return std::chrono::microseconds(*usec);
}

std::string socketFromEnvironment() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  return path == nullptr ? std::string() : std::string(path);
}

}  // namespace

SystemdNotifier::SystemdNotifier()
    : SystemdNotifier(socketFromEnvironment(), watchdogFromEnvironment()) {}

SystemdNotifier::SystemdNotifier(std::string socketPath,
                                 std::optional<std::chrono::microseconds> watchdog)
    : watchdog_(watchdog) {
  if (socketPath.empty() || (socketPath[0] != '/' && socketPath[0] != '@')) return;
  if (socketPath.size() >= sizeof(sockaddr_un::sun_path)) return;
  if (socketPath[0] == '@') socketPath[0] = '\0';
  address_ = std::move(socketPath);
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

bool SystemdNotifier::send(std::string_view state) const {
  if (fd_ < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, address_.data(), address_.size());
  // An abstract address is exactly as long as its bytes; a path one longer with its NUL.
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                                  address_.size() + (address_[0] == '\0' ? 0 : 1));
  for (;;) {
    const ssize_t sent = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                                  reinterpret_cast<const sockaddr*>(&address), length);
    if (sent >= 0) return static_cast<std::size_t>(sent) == state.size();
    if (errno != EINTR) return false;
  }
}

bool SystemdNotifier::ready(std::string_view status) const {
  return send("READY=1\nSTATUS=" + std::string(status));
}

bool SystemdNotifier::status(std::string_view status) const {
  return send("STATUS=" + std::string(status));
}

bool SystemdNotifier::reloading(std::string_view status) const {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
                    static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) +
              "\nSTATUS=" + std::string(status));
}

bool SystemdNotifier::stopping() const { return send("STOPPING=1\nSTATUS=stopping"); }

bool SystemdNotifier::keepAlive() const { return send("WATCHDOG=1"); }

LoopLiveness::Loop& LoopLiveness::add(std::string name) {
  std::lock_guard lock(mutex_);
  loops_.push_back(std::unique_ptr<Loop>(new Loop(std::move(name))));
  return *loops_.back();
}

std::optional<std::string> LoopLiveness::staleLoop(std::chrono::nanoseconds window,
                                                   Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  for (const auto& loop : loops_) {
    const Clock::time_point last{Clock::duration(loop->last_.load(std::memory_order_relaxed))};
    if (now - last > window) return loop->name_;
  }
  return std::nullopt;
}

std::chrono::milliseconds livenessBeatInterval(const SystemdNotifier& notifier) {
  const auto watchdog = notifier.watchdogInterval();
  if (!watchdog) return std::chrono::seconds(1);
  return std::max(std::chrono::milliseconds(10),
                  std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog / 4));
}

namespace {

kj::Duration toKj(std::chrono::milliseconds ms) { return ms.count() * kj::MILLISECONDS; }

kj::Promise<void> keepAliveStep(kj::Timer& timer, const SystemdNotifier& notifier,
                                LoopLiveness& liveness, LoopLiveness::Loop& own,
                                std::chrono::nanoseconds window, bool stalled) {
  return timer.afterDelay(toKj(liveness.beatInterval()))
      .then([&timer, &notifier, &liveness, &own, window, stalled]() {
        own.beat();
        const auto stale = liveness.staleLoop(window);
        if (!stale) {
          if (stalled) spdlog::info("every event loop turns again: watchdog keep-alives resume");
          notifier.keepAlive();
        } else if (!stalled) {
          spdlog::error(
              "event loop '{}' has not turned for over {} ms: withholding the watchdog "
              "keep-alive (systemd restarts the process if it stays stuck)",
              *stale, std::chrono::duration_cast<std::chrono::milliseconds>(window).count());
        }
        return keepAliveStep(timer, notifier, liveness, own, window, stale.has_value());
      });
}

}  // namespace

kj::Promise<void> beatEvery(kj::Timer& timer, const LoopLiveness& liveness,
                            LoopLiveness::Loop& loop) {
  return timer.afterDelay(toKj(liveness.beatInterval())).then([&timer, &liveness, &loop]() {
    loop.beat();
    return beatEvery(timer, liveness, loop);
  });
}

kj::Promise<void> keepAliveWhileLive(kj::Timer& timer, const SystemdNotifier& notifier,
                                     LoopLiveness& liveness, LoopLiveness::Loop& own) {
  const auto watchdog = notifier.watchdogInterval();
  if (!watchdog) return kj::NEVER_DONE;
  notifier.keepAlive();
  return keepAliveStep(timer, notifier, liveness, own, *watchdog / 2, false);
}

kj::Promise<void> reloadOnSignal(kj::UnixEventPort& port, int signo,
                                 const SystemdNotifier& notifier,
                                 std::function<std::string()> reload) {
  return port.onSignal(signo).then(
      [&port, signo, &notifier, reload = std::move(reload)](siginfo_t) mutable {
        notifier.reloading("reloading the configuration");
        notifier.ready(reload());
        return reloadOnSignal(port, signo, notifier, std::move(reload));
      });
}

}  // namespace octolaunch
