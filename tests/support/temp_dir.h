// A fresh directory under the system temp dir for one test, removed with everything in it when the
// TempDir is destroyed (kept when OCTOLAUNCH_KEEP_TEST_DIRS is set, to look at after a failure).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace octolaunch::testing {

class TempDir final {
 public:
  // Throws std::system_error when the directory cannot be created.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes content to path()/name (replacing it) and returns the file's path. Throws
  // std::runtime_error when the file cannot be written.
  std::filesystem::path write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace octolaunch::testing
