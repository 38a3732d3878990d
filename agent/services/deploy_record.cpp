#include "agent/services/deploy_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/services/services_config.h"

namespace octolaunch::services {

std::filesystem::path deploysDir(const std::filesystem::path& spoolDir) {
  return spoolDir / "deploys";
}

void writeDeployRecord(const std::filesystem::path& spoolDir, const DeployRecord& record) {
  if (!isValidServiceName(record.service)) {
    throw std::runtime_error("cannot record deploy: bad service name \"" + record.service + "\"");
  }
  const std::filesystem::path dir = deploysDir(spoolDir);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  const nlohmann::json json = {{"service", record.service},
                               {"release", record.release},
                               {"time_ns", record.timeNs},
                               {"outcome", record.outcome}};
  const std::string text = json.dump() + "\n";
  const std::filesystem::path file = dir / record.service;
  // A dot name, so the watcher ignores it; renamed over the record when complete.
  std::string tmp = (dir / ("." + record.service + ".tmp.XXXXXX")).string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot write in " + dir.string() + ": " + std::strerror(errno));
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
    const int renameErr = ok ? errno : err;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(renameErr));
  }
}

std::optional<DeployRecord> readDeployRecord(const std::filesystem::path& file,
                                             std::string* error) {
  auto failWith = [&](const std::string& why) -> std::optional<DeployRecord> {
    if (error) *error = file.string() + ": " + why;
    return std::nullopt;
  };
  std::ifstream in(file, std::ios::binary);
  if (!in) return failWith(std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 65536) return failWith("too large for a deploy record");
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return failWith("not a JSON object");
  DeployRecord record;
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto service = str("service");
  auto release = str("release");
  auto time = json.find("time_ns");
  if (!service || !release || time == json.end() || !time->is_number_integer()) {
    return failWith("expected service, release and time_ns");
  }
  record.service = *service;
  record.release = *release;
  record.timeNs = time->get<std::int64_t>();
  record.outcome = str("outcome").value_or("unknown");
  return record;
}

}  // namespace octolaunch::services
