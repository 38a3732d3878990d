// A temporary directory removed at the end of the test.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace octolaunch::testing {

class SourcesTempDir final {
 public:
  SourcesTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "octolaunch-src-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~SourcesTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  SourcesTempDir(const SourcesTempDir&) = delete;
  SourcesTempDir& operator=(const SourcesTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace octolaunch::testing
