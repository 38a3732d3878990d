// Ordering between a hook that is still recording and what comes after it.
//
// `hook` returns as soon as its command is done, then finishes recording in the background
// (detached: see hook_command.h). While recording it holds a shared flock on <spool>/hook.lock.
// `deploy` takes the lock exclusively (waiting a bounded time) before it appends, so a
// deploy.finish written after a hook returned gets a higher seq than that hook's lines and exit.
#pragma once

#include <chrono>
#include <filesystem>

namespace octolaunch::agent {

class RecordingLock final {
 public:
  enum class Mode { shared, exclusive };
  // Best effort: when the lock file cannot be opened or the wait times out, held() is false and
  // the caller goes on without it.
  RecordingLock(const std::filesystem::path& spoolDir, Mode mode, std::chrono::milliseconds wait);
  ~RecordingLock();
  RecordingLock(const RecordingLock&) = delete;
  RecordingLock& operator=(const RecordingLock&) = delete;
  bool held() const { return held_; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

}  // namespace octolaunch::agent
