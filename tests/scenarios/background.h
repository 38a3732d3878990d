// The noisy twin's background: what a busy host does during a deploy, started by the test, kept
// up until the scenario ends.
//
// Host-wide (one kernel serves every simulated host, so these reach all of them, as they would
// reach every service of a real host): stress-ng cpu and io load on the real disk, which makes
// the kernel's PSI sources fire during and after the deploy; the kernel log of every OOM kill.
//
// Per host (what only that host's agent sees): each host owns a memory cgroup subtree
// (<scope>/<host>, its agent's cgroup_scope) in which an unrelated service's processes
// (batch-worker) are OOM-killed before, during and after the window; a journal directory of its
// own in which batch-worker.service flaps (fails and is restarted); and a health probe of
// batch-worker that blips and recovers. The hooks that succeed print ERROR/warning lines (see
// Fleet::hook).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/scenarios/journal_feed.h"
#include "tests/support/process.h"

namespace octolaunch::testing {

// Why the noisy twin cannot run here ("" when it can): needs root, cgroup v1 memory, /dev/kmsg,
// stress-ng, python3 and systemd-journal-remote.
std::string noiseUnavailable();

// A cgroup v1 memory cgroup, created with a limit and removed (after its processes) at the end.
class MemoryCgroup final {
 public:
  MemoryCgroup(const std::filesystem::path& path, std::size_t limitBytes);
  ~MemoryCgroup();
  const std::filesystem::path& path() const { return path_; }
  // The cgroup as the kernel names it ("/a/b"), relative to the memory hierarchy.
  std::string name() const;
  std::filesystem::path procs() const { return path_ / "cgroup.procs"; }
  // A shell line that moves itself into the cgroup and allocates past its limit.
  std::string oomScript() const;

 private:
  std::filesystem::path path_;
};

// The root of a scenario's memory cgroups: /sys/fs/cgroup/memory/octolaunch-fleet-<pid>-<n>.
std::filesystem::path newCgroupScope();

class Background final {
 public:
  // Starts the host-wide load; workDir is where stress-ng writes (on the real disk).
  explicit Background(const std::filesystem::path& workDir);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Adds a host's own noise. hostScope: the host's memory cgroup subtree; journalDir: the
  // directory its agent's journal source reads; healthFlag: the file whose presence fails
  // batch-worker's health probe. The journal feed must outlive this object.
  void addHost(const std::filesystem::path& hostScope, JournalFeed& journal,
               const std::filesystem::path& healthFlag);

  // Waits (at most timeout) until every host has had a batch-worker OOM kill and a flap of its
  // unit, so that the noise is there before the deploy window opens. False on timeout.
  bool waitWarm(std::chrono::milliseconds timeout);

  // The unrelated service's unit.
  static constexpr const char* kNoiseUnit = "batch-worker.service";

 private:
  struct Host {
    std::unique_ptr<MemoryCgroup> batch;
    JournalFeed* journal;
    std::filesystem::path healthFlag;
    int kills = 0;  // batch-worker processes started here that have ended
    int flaps = 0;
  };
  struct Victim {
    std::unique_ptr<Process> process;
    std::size_t host;
  };
  void loop();

  std::unique_ptr<Process> stress_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Host> hosts_;
  std::condition_variable warm_;
  std::vector<Victim> victims_;
  std::thread thread_;
};

}  // namespace octolaunch::testing
