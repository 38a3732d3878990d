#include "agent/ship/agent_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "shared/util/random_bytes.h"

namespace octolaunch::agent {

namespace {

std::runtime_error failure(const std::filesystem::path& path, const std::string& what) {
  return std::runtime_error("agent key file " + path.string() + ": " + what);
}

void writeAll(int fd, const std::string& text, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw failure(path, std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::optional<AgentKey> loadAgentKey(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw failure(path, std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("agent_id") ||
      !j["agent_id"].is_string()) {
    throw failure(path, "not an agent key file (move it away to enroll again)");
  }
  AgentKey key;
  key.configuredAgentId = j.value("configured_agent_id", "");
  key.agentId = j.value("agent_id", "");
  key.key = j.value("key", "");
  key.generation = j.value("generation", std::uint64_t{0});
  key.nextGeneration = j.value("next_generation", std::uint64_t{0});
  return key;
}

void saveAgentKey(const std::filesystem::path& path, const AgentKey& key) {
  const std::string text = nlohmann::json{{"configured_agent_id", key.configuredAgentId},
                                          {"agent_id", key.agentId},
                                          {"key", key.key},
                                          {"generation", key.generation},
                                          {"next_generation", key.nextGeneration}}
                               .dump() +
                           "\n";
  const std::filesystem::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw failure(tmp, std::strerror(errno));
  try {
    ::fchmod(fd, 0600);  // whatever the umask or an earlier file said
    writeAll(fd, text, tmp);
    if (::fsync(fd) != 0) throw failure(tmp, std::strerror(errno));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw failure(path, std::strerror(errno));
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

std::uint64_t randomGeneration() {
  std::uint64_t value = 0;
  while (value == 0) fillRandom(&value, sizeof value);
  return value;
}

std::string randomSuffix() {
  std::uint32_t value = 0;
  fillRandom(&value, sizeof value);
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

}  // namespace octolaunch::agent
