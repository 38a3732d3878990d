// Configuration of the agent's host sources: the [sources.*] sections of agent.toml.
//
//   [sources]                       enabled (all sources; default true), state_dir (default: the
//   spool dir) [sources.kmsg]                  enabled, device, recover_previous_boot, journal_dir
//   [sources.cgroup]                enabled, root, slices, cgroups, poll_interval_ms,
//   dedupe_window_ms [sources.psi]                   enabled, resources, some_avg10_percent,
//   clear_avg10_percent,
//                                   trigger_stall_us, trigger_window_us, poll_interval_ms, dir
//   [sources.disk]                  enabled, used_percent, inode_used_percent,
//   clear_margin_percent,
//                                   interval_ms, mounts, include_tmpfs, mountinfo
//   [sources.fd]                    enabled, used_percent, clear_margin_percent, interval_ms,
//   file_nr [sources.journal]               enabled, directory, last_lines, oom_join_window_ms
//   [sources.containers]            enabled, sockets, reconnect_max_ms
//
// Every key is optional; every source is on by default and turns itself off (one log line) where
// the host lacks what it reads. Read under the rule of shared/config/toml_reader.h: strictly, a
// problem is a ConfigError naming file, line and key ("agent.toml:9:
// sources.psi.some_avg10_percent: expected a number, got a string"); leniently, it is a warning
// and the value keeps its default.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/services/services_config.h"
#include "shared/config/toml_reader.h"

namespace octolaunch::sources {

using SourcesConfigError = config::ConfigError;

struct KmsgConfig {
  bool enabled = true;
  std::filesystem::path device = "/dev/kmsg";
  bool recoverPreviousBoot = true;   // previous boot's OOM lines from the persistent journal
  std::filesystem::path journalDir;  // empty: the system journal
};

struct CgroupConfig {
  bool enabled = true;
  std::filesystem::path root = "/sys/fs/cgroup";    // v2 mount, or the v1 root holding memory/
  std::vector<std::string> slices{"system.slice"};  // units below these are watched
  std::vector<std::string> cgroups;     // extra cgroups ("/myapp"), relative to the hierarchy
  std::uint32_t pollIntervalMs = 5000;  // rescan for new units / v1 counter poll
  std::uint32_t dedupeWindowMs = 1000;  // memory-event kill waits this long for kmsg's line
};

struct PsiConfig {
  bool enabled = true;
  std::vector<std::string> resources{"memory", "io", "cpu"};
  double someAvg10Percent = 10.0;  // polled: raise when "some" avg10 >= this
  double clearAvg10Percent = 5.0;  // clear when "some" avg10 < this (and no trigger for a window)
  std::uint64_t triggerStallUs = 150000;
  std::uint64_t triggerWindowUs = 2000000;
  std::uint32_t pollIntervalMs = 2000;
  std::filesystem::path dir = "/proc/pressure";
};

struct DiskConfig {
  bool enabled = true;
  double usedPercent = 95.0;        // disk.full raised at or above
  double inodeUsedPercent = 95.0;   // inode.exhausted raised at or above
  double clearMarginPercent = 5.0;  // cleared below threshold - margin
  std::uint32_t intervalMs = 5000;
  std::vector<std::string> mounts;  // when set: exactly these mount points
  bool includeTmpfs = false;
  std::filesystem::path mountinfo = "/proc/self/mountinfo";
};

struct FdConfig {
  bool enabled = true;
  double usedPercent = 90.0;  // allocated / file-max
  double clearMarginPercent = 5.0;
  std::uint32_t intervalMs = 5000;
  std::filesystem::path fileNr = "/proc/sys/fs/file-nr";
};

struct JournalConfig {
  bool enabled = true;
  std::filesystem::path directory;  // empty: the system journal
  std::uint32_t lastLines = 10;
  std::uint32_t oomJoinWindowMs = 5000;  // a kernel OOM kill this close to a failure -> oom_killed
};

struct ContainersConfig {
  bool enabled = true;
  std::vector<std::string> sockets{"/var/run/docker.sock", "/run/podman/podman.sock"};
  std::uint32_t reconnectMaxMs = 30000;
};

// Post-deploy health probes (health/health_source.h). Read from [service.NAME] (agent/services),
// not from [sources.*]: sourcesConfigFor() fills it in. Runs when some service has a probe.
struct HealthConfig {
  std::vector<services::ServiceConfig> services;
  std::filesystem::path deploysDir;  // where `deploy finish` leaves its records
};

struct SourcesConfig {
  bool enabled = true;             // false: no host source runs (the hook and shipper still do)
  std::filesystem::path stateDir;  // empty: the caller supplies the spool dir
  std::string cgroupScope;         // see cgroup_scope.h; empty: the whole tree is this host's
  KmsgConfig kmsg;
  CgroupConfig cgroup;
  PsiConfig psi;
  DiskConfig disk;
  FdConfig fd;
  JournalConfig journal;
  ContainersConfig containers;
  HealthConfig health;
  std::vector<std::string> warnings;  // lenient reading: the problems found
};

// Reads the [sources] table of the agent's config (the whole file's table); problems go to
// `report`.
SourcesConfig readSourcesConfig(const toml::table& root, config::ConfigReport& report);
// readSourcesConfig() with the rule applied: strict throws ConfigError naming every problem.
SourcesConfig parseSourcesConfig(const toml::table& root,
                                 config::Strictness strictness = config::Strictness::strict);

}  // namespace octolaunch::sources
