// How the daemon learns that a deploy finished: `octolaunch-agent deploy finish` writes
// <spool dir>/deploys/<service> (JSON: service, release, time_ns, outcome) and the daemon's
// HealthMonitor watches that directory (inotify) to start its post-deploy watch period.
//
// Contract
//  * writeDeployRecord() replaces the file atomically (write to a temporary name, fsync, rename),
//    so a reader sees the old record or the new one, never half of one; the directory is created
//    setgid and group-writable (2770) like the spool, so a deploy user in the agent's group can
//    write it. Throws std::runtime_error naming the path on failure; the service name must pass
//    isValidServiceName().
//  * readDeployRecord() returns nullopt (and *error) for a missing, unreadable or malformed file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace octolaunch::services {

struct DeployRecord {
  std::string service;
  std::string release;
  std::int64_t timeNs = 0;  // when deploy finish ran, UTC ns
  std::string outcome;      // "ok", "failed" or "unknown"
};

std::filesystem::path deploysDir(const std::filesystem::path& spoolDir);
void writeDeployRecord(const std::filesystem::path& spoolDir, const DeployRecord& record);
std::optional<DeployRecord> readDeployRecord(const std::filesystem::path& file, std::string* error);

}  // namespace octolaunch::services
