// "The spool grew": wakes the shipper promptly, without polling, whoever appended.
//  * Other processes (hook wrappers, deploy markers): inotify on the spool's data.mdb
//    (IN_MODIFY / IN_CLOSE_WRITE), watched through the KJ event port.
//  * In-process sources on another thread: wake(), which never blocks.
//  * A slow periodic re-check (the safety net) bounds the lag if both of those ever miss.
//
// Threads: construct, wait() and destroy on the KJ event-loop thread; wake() from any thread.
#pragma once

#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/mutex.h>
#include <kj/timer.h>

#include <filesystem>

namespace octolaunch::agent {

class SpoolWake final {
 public:
  // Throws std::runtime_error when inotify cannot be set up (the re-check still works if the
  // caller chooses to go on without it: see watching()).
  SpoolWake(kj::UnixEventPort& eventPort, kj::Timer& timer, const std::filesystem::path& dataFile,
            kj::Duration recheck);
  ~SpoolWake();
  SpoolWake(const SpoolWake&) = delete;
  SpoolWake& operator=(const SpoolWake&) = delete;

  // Any thread, never blocks.
  void wake() const;
  // KJ thread: resolves at the next wake (at once if one came since the last wait) or after the
  // re-check interval, whichever is first. One waiter at a time.
  kj::Promise<void> wait();
  bool watching() const { return inotifyFd_ >= 0; }
  // Watches dataFile instead of the file watched so far (after the spool was reopened).
  void rewatch(const std::filesystem::path& dataFile);

 private:
  kj::Promise<void> watchLoop();

  struct Shared {
    bool pending = false;
    kj::Maybe<kj::Own<kj::CrossThreadPromiseFulfiller<void>>> fulfiller;
  };
  kj::MutexGuarded<Shared> shared_;
  kj::Timer& timer_;
  kj::Duration recheck_;
  int inotifyFd_ = -1;
  int watch_ = -1;
  kj::Own<kj::UnixEventPort::FdObserver> observer_;
  kj::Promise<void> watchTask_ = nullptr;
};

}  // namespace octolaunch::agent
