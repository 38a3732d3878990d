#include "agent/sources/sources_config.h"

#include <algorithm>

namespace octolaunch::sources {

namespace {

constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;

}  // namespace

SourcesConfig readSourcesConfig(const toml::table& root, config::ConfigReport& report) {
  SourcesConfig config;
  config::TableReader sources = config::TableReader::topSection(root, "sources", report);
  sources.read("enabled", config.enabled);
  sources.read("state_dir", config.stateDir);
  sources.read("cgroup_scope", config.cgroupScope);
  {
    config::TableReader s = sources.section("kmsg");
    s.read("enabled", config.kmsg.enabled);
    s.read("device", config.kmsg.device);
    s.read("recover_previous_boot", config.kmsg.recoverPreviousBoot);
    s.read("journal_dir", config.kmsg.journalDir);
  }
  {
    config::TableReader s = sources.section("cgroup");
    s.read("enabled", config.cgroup.enabled);
    s.read("root", config.cgroup.root);
    s.read("slices", config.cgroup.slices);
    s.read("cgroups", config.cgroup.cgroups);
    s.read("poll_interval_ms", config.cgroup.pollIntervalMs, 100, kMaxMs);
    s.read("dedupe_window_ms", config.cgroup.dedupeWindowMs, 0, 60000);
  }
  {
    config::TableReader s = sources.section("psi");
    s.read("enabled", config.psi.enabled);
    std::vector<std::string> resources;
    if (s.read("resources", resources)) {
      auto unknown = std::find_if(resources.begin(), resources.end(), [](const std::string& r) {
        return r != "memory" && r != "io" && r != "cpu";
      });
      if (unknown != resources.end()) {
        s.reject("resources", "unknown resource \"" + *unknown + "\" (memory, io, cpu)");
      } else {
        config.psi.resources = std::move(resources);
      }
    }
    const PsiConfig defaults;
    s.read("some_avg10_percent", config.psi.someAvg10Percent, 0.0, 100.0);
    s.read("clear_avg10_percent", config.psi.clearAvg10Percent, 0.0, 100.0);
    if (config.psi.clearAvg10Percent > config.psi.someAvg10Percent) {
      s.reject("clear_avg10_percent", "must not exceed some_avg10_percent");
      config.psi.someAvg10Percent = defaults.someAvg10Percent;
      config.psi.clearAvg10Percent = defaults.clearAvg10Percent;
    }
    s.read("trigger_stall_us", config.psi.triggerStallUs, 0, 10'000'000);
    s.read("trigger_window_us", config.psi.triggerWindowUs, 0, 10'000'000);
    s.read("poll_interval_ms", config.psi.pollIntervalMs, 100, kMaxMs);
    s.read("dir", config.psi.dir);
  }
  {
    config::TableReader s = sources.section("disk");
    s.read("enabled", config.disk.enabled);
    s.read("used_percent", config.disk.usedPercent, 0.0, 100.0);
    s.read("inode_used_percent", config.disk.inodeUsedPercent, 0.0, 100.0);
    s.read("clear_margin_percent", config.disk.clearMarginPercent, 0.0, 100.0);
    s.read("interval_ms", config.disk.intervalMs, 100, kMaxMs);
    s.read("mounts", config.disk.mounts);
    s.read("include_tmpfs", config.disk.includeTmpfs);
    s.read("mountinfo", config.disk.mountinfo);
  }
  {
    config::TableReader s = sources.section("fd");
    s.read("enabled", config.fd.enabled);
    s.read("used_percent", config.fd.usedPercent, 0.0, 100.0);
    s.read("clear_margin_percent", config.fd.clearMarginPercent, 0.0, 100.0);
    s.read("interval_ms", config.fd.intervalMs, 100, kMaxMs);
    s.read("file_nr", config.fd.fileNr);
  }
  {
    config::TableReader s = sources.section("journal");
    s.read("enabled", config.journal.enabled);
    s.read("directory", config.journal.directory);
    s.read("last_lines", config.journal.lastLines, 0, 1000);
    s.read("oom_join_window_ms", config.journal.oomJoinWindowMs, 0, 600000);
  }
  {
    config::TableReader s = sources.section("containers");
    s.read("enabled", config.containers.enabled);
    s.read("sockets", config.containers.sockets);
    s.read("reconnect_max_ms", config.containers.reconnectMaxMs, 100, kMaxMs);
  }
  return config;
}

SourcesConfig parseSourcesConfig(const toml::table& root, config::Strictness strictness) {
  return config::readSettled<SourcesConfig>(readSourcesConfig, root, strictness);
}

}  // namespace octolaunch::sources
