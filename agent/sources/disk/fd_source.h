// fd.exhausted: the system-wide file handle table (/proc/sys/fs/file-nr: allocated, unused, max),
// every interval_ms; raised when allocated - unused reaches used_percent of max, cleared below
// used_percent - clear_margin_percent. The first read is in start(): a table already over the
// threshold is reported raised with atStart set. Thread: io_context thread only (see source.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "agent/sources/asio.h"
#include "agent/sources/disk/file_nr.h"
#include "agent/sources/disk/interval_timer.h"
#include "agent/sources/disk/threshold_state.h"
#include "agent/sources/event_out.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

class FdSource final : public Source {
 public:
  FdSource(asio::io_context& io, EventOut& out, FdConfig config);
  std::string_view name() const override { return "fd"; }
  bool start() override;
  void stop() override;
  void scan();

 private:
  EventOut& out_;
  FdConfig config_;
  IntervalTimer timer_;
  ThresholdState state_;
  bool firstScan_ = true;
};

}  // namespace octolaunch::sources
