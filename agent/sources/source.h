// One live host source (kmsg, cgroup memory events, PSI, disk, fd, journal, containers).
//
// Contract: a source is constructed, started and stopped on the sources' io_context thread and
// never touched from another thread. start() either begins watching (returns true) or finds the
// host lacks what it reads, logs that once and returns false (the source stays off). stop()
// closes its descriptors and cancels its timers so that every handler it queued completes
// promptly; after stop() the source appends nothing more.
#pragma once

#include <string_view>

namespace octolaunch::sources {

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  virtual bool start() = 0;
  virtual void stop() = 0;
};

}  // namespace octolaunch::sources
