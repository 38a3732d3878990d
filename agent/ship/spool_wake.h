// "The spool grew": wakes the shipper promptly, without polling, whoever appended. Every writer
// (the daemon's own sources and health probes, hook wrappers and deploy markers in other
// processes) appends through Spool::append(), which, once its commit is visible to readers,
// updates the times of the spool's data.mdb: inotify reports IN_ATTRIB on that file, watched
// through the KJ event port. (LMDB's own writes to the file, IN_MODIFY, come before the commit is
// published to readers: on their own they can wake the shipper too early and never again.) A
// slow periodic re-check (the safety net) bounds the lag if a notification is ever missed (e.g.
// the inotify queue overflowed).
//
// Threads: construct, wait(), rewatch() and destroy on the KJ event-loop thread only.
#pragma once

#include <kj/async-io.h>
#include <kj/async-unix.h>
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

  // Resolves at the next write to the data file (at once if one came since the last wait) or
  // after the re-check interval, whichever is first. One waiter at a time.
  kj::Promise<void> wait();
  bool watching() const { return inotifyFd_ >= 0; }
  // Watches dataFile instead of the file watched so far (after the spool was reopened).
  void rewatch(const std::filesystem::path& dataFile);

 private:
  kj::Promise<void> watchLoop();
  void wake();

  bool pending_ = false;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> waiter_;
  kj::Timer& timer_;
  kj::Duration recheck_;
  int inotifyFd_ = -1;
  int watch_ = -1;
  kj::Own<kj::UnixEventPort::FdObserver> observer_;
  kj::Promise<void> watchTask_ = nullptr;
};

}  // namespace octolaunch::agent
