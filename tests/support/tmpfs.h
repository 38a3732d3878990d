// A tmpfs mounted for one test (needs root), unmounted (lazily) at the end. Tests that mount one
// use the host kernel: they run under the shared host-kernel lock (ctest: RESOURCE_LOCK).
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace octolaunch::testing {

class Tmpfs final {
 public:
  // options: mount(8) tmpfs options, e.g. "size=2m". ok() tells whether it is mounted.
  Tmpfs(const std::filesystem::path& at, const std::string& options) : path_(at) {
    std::filesystem::create_directories(at);
    ok_ = ::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!ok_) error_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
  }
  ~Tmpfs() {
    if (ok_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path path_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace octolaunch::testing
