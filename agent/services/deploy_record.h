// How the daemon's health watch learns that a deploy finished: the daemon, handed a deploy.finish
// (agent/deploy/deploy_finish_worker.h), writes <spool dir>/deploys/<service> (JSON: service,
// release, time_ns, outcome) and the daemon's HealthMonitor watches that directory (inotify) to
// start its post-deploy watch period.
//
// Contract
//  * writeDeployRecord() replaces the file atomically (write to a temporary name, fsync, rename),
//    so a reader sees the old record or the new one, never half of one; the directory is the
//    daemon's alone (0700, files 0600) like the spool. Throws std::runtime_error naming the path on
//    failure; the service name must pass isValidServiceName().
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
