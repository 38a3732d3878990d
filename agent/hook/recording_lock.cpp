#include "agent/hook/recording_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

namespace octolaunch::agent {

RecordingLock::RecordingLock(const std::filesystem::path& spoolDir, Mode mode,
                             std::chrono::milliseconds wait) {
  auto path = spoolDir / "hook.lock";
  fd_ = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0660);
  if (fd_ < 0) return;
  // Group members must be able to open it too, whatever the creator's umask.
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_uid == ::geteuid()) ::fchmod(fd_, 0660);
  int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::flock(fd_, op) == 0) {
      held_ = true;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

RecordingLock::~RecordingLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace octolaunch::agent
