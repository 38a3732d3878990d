// OOM kills counted by cgroups: cgroup v2 memory.events (oom_kill) and cgroup v1
// memory.oom_control (oom_kill), for every unit below the configured slices (default
// system.slice) and for the configured cgroups.
//
// How it learns of a kill:
//  * v2: inotify IN_MODIFY on each memory.events file (the kernel notifies on every event);
//  * v1: the memcg OOM notifier (an eventfd registered through cgroup.event_control with
//    memory.oom_control), which fires when the cgroup hits OOM, plus a slow poll of the counter;
//  * new and removed units: inotify on the slice directories, plus a rescan every poll_interval_ms.
// A counter increase is read at once (the cgroup may be removed right after the kill) but
// reported only after dedupe_window_ms: kills the kmsg source logged meanwhile for that cgroup are
// claimed from the OomLedger and not reported again; the rest become oom.kill events with
// killer "kernel" and source "memory.events" / "memory.oom_control" (no pid: the kernel did not
// say). Thread: io_context thread only (see source.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/oom_ledger.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

class MemoryEventsSource final : public Source {
 public:
  MemoryEventsSource(asio::io_context& io, EventOut& out, OomLedger& ledger, CgroupConfig config);
  ~MemoryEventsSource() override;
  std::string_view name() const override { return "cgroup"; }
  bool start() override;
  void stop() override;
  std::string degraded() const override { return degraded_.text(); }

  int version() const { return version_; }
  // Cgroups watched now, as the kernel prints them ("/system.slice/api.service").
  std::size_t watchedCount() const { return watched_.size(); }
  bool watches(const std::string& cgroup) const { return watched_.contains(cgroup); }

 private:
  struct Watched;
  void rescan(bool atStart);
  void addCgroup(const std::string& rel, bool createdSinceStart);
  void removeCgroup(const std::string& rel);
  bool readCounter(Watched& w);  // adds a counter increase to the pending kills; true if any
  void armReport(Watched& w);
  void report(const std::string& rel);
  void waitInotify();
  void drainInotify();
  void waitOomEventfd(Watched& w);
  void armPoll();
  std::filesystem::path dirOf(const std::string& rel) const;

  asio::io_context& io_;
  EventOut& out_;
  OomLedger& ledger_;
  CgroupConfig config_;
  int version_ = 0;                  // 1, 2; 0 when off
  std::filesystem::path hierarchy_;  // the memory hierarchy's mount point
  std::string counterFile_;          // "memory.events" or "memory.oom_control"
  asio::posix::stream_descriptor inotify_;
  std::map<int, std::string> sliceWatches_;  // inotify wd -> slice rel path
  std::map<int, std::string> fileWatches_;   // inotify wd -> cgroup rel path (v2)
  std::map<std::string, std::unique_ptr<Watched>> watched_;
  asio::steady_timer pollTimer_;
  bool stopped_ = false;
  DegradedNote degraded_;
};

}  // namespace octolaunch::sources
