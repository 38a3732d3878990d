// Talking to the service manager: the sd_notify protocol (READY=1, RELOADING=1, STOPPING=1,
// STATUS=..., WATCHDOG=1) over the unix datagram socket named by $NOTIFY_SOCKET, written here so
// the daemons need no libsystemd; and the liveness of the event loops that decides whether a
// WATCHDOG=1 keep-alive may be sent.
//
// Contract
//  * SystemdNotifier reads $NOTIFY_SOCKET once, when constructed. Without it (not started by
//    systemd, or Type= is not notify) every call does nothing and enabled() is false. A path
//    starting with '@' is an abstract socket address; a path that is neither absolute nor '@' is
//    ignored. send() never blocks and never throws: a message the manager cannot take is dropped
//    (it is advisory; the manager reacts to its absence, e.g. by a start timeout).
//  * watchdogInterval() is $WATCHDOG_USEC when $WATCHDOG_PID is unset or names this process, else
//    nullopt; the keep-alive should go out at half of it (systemd's advice).
//  * LoopLiveness: every event loop registers once and beats from its own thread at least every
//    beatInterval(); allAlive() is true only while every registered loop has beaten within the
//    given window. A stuck loop then stops the keep-alives, and systemd restarts the process
//    (WatchdogSec=). The notifier's own loop is one of the loops: if it is stuck nothing is sent.
//
// Threads: SystemdNotifier::send() may be called from any thread (one datagram per call).
// LoopLiveness::Loop::beat() from the loop's own thread, allAlive() from any thread.
#pragma once

#include <kj/async-unix.h>
#include <kj/async.h>
#include <kj/timer.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace octolaunch {

class SystemdNotifier final {
 public:
  // From the environment ($NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID).
  SystemdNotifier();
  // For tests: this socket path ("" for none) and watchdog interval.
  SystemdNotifier(std::string socketPath, std::optional<std::chrono::microseconds> watchdog);
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return fd_ >= 0; }
  std::optional<std::chrono::microseconds> watchdogInterval() const { return watchdog_; }

  // One message of newline-separated assignments ("READY=1\nSTATUS=serving"). Returns true when
  // the manager's socket took it; false when disabled or the send failed.
  bool send(std::string_view state) const;
  bool ready(std::string_view status) const;
  bool status(std::string_view status) const;
  // RELOADING=1 with MONOTONIC_USEC (systemd 253 wants it for Type=notify-reload; older ones
  // ignore it), then ready() when the reload is done.
  bool reloading(std::string_view status) const;
  bool stopping() const;
  bool keepAlive() const;

 private:
  int fd_ = -1;
  std::string address_;  // the sockaddr_un path bytes; abstract: starts with '\0'
  std::optional<std::chrono::microseconds> watchdog_;
};

class LoopLiveness final {
 public:
  using Clock = std::chrono::steady_clock;

  class Loop final {
   public:
    // Called on the loop's own thread, from a timer of that loop.
    void beat() { last_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed); }
    const std::string& name() const { return name_; }

   private:
    friend class LoopLiveness;
    explicit Loop(std::string name) : name_(std::move(name)) { beat(); }
    std::string name_;
    std::atomic<Clock::rep> last_;
  };

  // beatInterval: how often each loop must beat (a fraction of the watchdog interval).
  explicit LoopLiveness(std::chrono::milliseconds beatInterval) : beatInterval_(beatInterval) {}

  // Registers a loop; the reference stays valid as long as this object. Counts as beaten now.
  Loop& add(std::string name);
  std::chrono::milliseconds beatInterval() const { return beatInterval_; }
  // The name of a loop that has not beaten within `window` of `now`; nullopt when all have.
  std::optional<std::string> staleLoop(std::chrono::nanoseconds window,
                                       Clock::time_point now = Clock::now()) const;

 private:
  std::chrono::milliseconds beatInterval_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Loop>> loops_;  // guarded by mutex_; a Loop's beat is atomic
};

// How often loops beat and the notifier checks: a quarter of the watchdog interval (so a beat
// and a check both fit in the half systemd advises), at least 10 ms; 1 s without a watchdog.
std::chrono::milliseconds livenessBeatInterval(const SystemdNotifier& notifier);

// On a KJ loop: beats `loop` every liveness.beatInterval(); never resolves.
kj::Promise<void> beatEvery(kj::Timer& timer, const LoopLiveness& liveness,
                            LoopLiveness::Loop& loop);
// On a KJ loop (which should be registered as `own`): every beat interval, beats `own` and sends
// WATCHDOG=1 when every registered loop has beaten within half the watchdog interval; otherwise
// logs (once per stall) which loop is stuck and sends nothing. Never resolves; without a watchdog
// interval it does nothing.
kj::Promise<void> keepAliveWhileLive(kj::Timer& timer, const SystemdNotifier& notifier,
                                     LoopLiveness& liveness, LoopLiveness::Loop& own);

// On a KJ loop: on every `signo` (captured with kj::UnixEventPort::captureSignal before any
// thread started) tells the manager RELOADING=1, calls reload() and then READY=1 with the status
// reload() returns. reload() must not throw. Never resolves.
kj::Promise<void> reloadOnSignal(kj::UnixEventPort& port, int signo,
                                 const SystemdNotifier& notifier,
                                 std::function<std::string()> reload);

}  // namespace octolaunch
