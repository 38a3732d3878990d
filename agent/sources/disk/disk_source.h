// disk.full and inode.exhausted: statvfs on the real filesystems (from /proc/self/mountinfo, or
// exactly the configured mounts, tmpfs included when configured), every interval_ms; an event
// when a mount's use reaches the threshold (state raised) and when it falls below threshold -
// clear_margin (state cleared) — not a sample per interval. A bind mount of a filesystem already
// watched is not watched twice. A vanished mount is forgotten silently. The first scan runs in
// start(): a mount already over a threshold is reported raised with atStart set.
// Thread: io_context thread only (see source.h).
#pragma once

#include <map>
#include <string>

#include "agent/sources/asio.h"
#include "agent/sources/disk/interval_timer.h"
#include "agent/sources/disk/threshold_state.h"
#include "agent/sources/event_out.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

class DiskSource final : public Source {
 public:
  DiskSource(asio::io_context& io, EventOut& out, DiskConfig config);
  std::string_view name() const override { return "disk"; }
  bool start() override;
  void stop() override;

  // One scan now (the timer calls it); public for tests.
  void scan();

 private:
  struct Watched {
    std::string fsType;
    ThresholdState space;
    ThresholdState inodes;
  };

  EventOut& out_;
  DiskConfig config_;
  IntervalTimer timer_;
  std::map<std::string, Watched> mounts_;  // mount point -> state
  bool loggedMountinfo_ = false;
  bool firstScan_ = true;  // the scan in start(): raised states carry atStart
};

}  // namespace octolaunch::sources
