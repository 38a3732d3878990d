#include "agent/ship/spool_wake.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace octolaunch::agent {

namespace {
// Writes, plus the file's deletion (link count change) so a removed spool is noticed promptly.
constexpr std::uint32_t kMask = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF;
}  // namespace

SpoolWake::SpoolWake(kj::UnixEventPort& eventPort, kj::Timer& timer,
                     const std::filesystem::path& dataFile, kj::Duration recheck)
    : timer_(timer), recheck_(recheck) {
  inotifyFd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotifyFd_ < 0)
    throw std::runtime_error(std::string("inotify_init1: ") + std::strerror(errno));
  watch_ = ::inotify_add_watch(inotifyFd_, dataFile.c_str(), kMask);
  if (watch_ < 0) {
    int e = errno;
    ::close(inotifyFd_);
    inotifyFd_ = -1;
    throw std::runtime_error("inotify_add_watch " + dataFile.string() + ": " + std::strerror(e));
  }
  observer_ = kj::heap<kj::UnixEventPort::FdObserver>(eventPort, inotifyFd_,
                                                      kj::UnixEventPort::FdObserver::OBSERVE_READ);
  watchTask_ = watchLoop().eagerlyEvaluate(nullptr);
}

SpoolWake::~SpoolWake() {
  watchTask_ = nullptr;
  observer_ = nullptr;
  if (inotifyFd_ >= 0) ::close(inotifyFd_);
}

kj::Promise<void> SpoolWake::watchLoop() {
  return observer_->whenBecomesReadable().then([this]() {
    // Edge-triggered: drain everything that is there.
    alignas(inotify_event) std::array<char, 4096> buffer;
    while (::read(inotifyFd_, buffer.data(), buffer.size()) > 0) {
    }
    wake();
    return watchLoop();
  });
}

void SpoolWake::rewatch(const std::filesystem::path& dataFile) {
  if (watch_ >= 0) ::inotify_rm_watch(inotifyFd_, watch_);
  watch_ = ::inotify_add_watch(inotifyFd_, dataFile.c_str(), kMask);
}

void SpoolWake::wake() {
  KJ_IF_MAYBE (waiter, waiter_) {
    if ((*waiter)->isWaiting()) {
      (*waiter)->fulfill();
      return;
    }
  }
  pending_ = true;
}

kj::Promise<void> SpoolWake::wait() {
  if (pending_) {
    pending_ = false;
    waiter_ = nullptr;
    return kj::READY_NOW;
  }
  auto paf = kj::newPromiseAndFulfiller<void>();
  waiter_ = kj::mv(paf.fulfiller);
  return paf.promise.exclusiveJoin(timer_.afterDelay(recheck_));
}

}  // namespace octolaunch::agent
