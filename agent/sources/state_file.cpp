#include "agent/sources/state_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace octolaunch::sources {

std::optional<StateValues> readStateFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  StateValues values;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

bool writeStateFile(const std::filesystem::path& path, const StateValues& values) {
  std::string text;
  for (const auto& [key, value] : values) text += key + "=" + value + "\n";
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    spdlog::warn("sources: cannot write state file {}: {}", tmp.string(), std::strerror(errno));
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::warn("sources: cannot write state file {}: {}", tmp.string(), std::strerror(errno));
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    spdlog::warn("sources: cannot replace state file {}: {}", path.string(), std::strerror(errno));
    return false;
  }
  return true;
}

std::string currentBootId(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string id;
  if (!in || !std::getline(in, id)) return {};
  std::string out;
  for (char c : id) {
    if (c != '-' && c != '\n' && c != ' ') out += c;
  }
  return out;
}

}  // namespace octolaunch::sources
