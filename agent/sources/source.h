// One live host source (kmsg, cgroup memory events, PSI, disk, fd, journal, containers).
//
// Contract: a source is constructed, started and stopped on the sources' io_context thread and
// never touched from another thread. start() either begins watching (returns true) or finds the
// host lacks what it reads, logs that once and returns false (the source stays off). stop()
// closes its descriptors and cancels its timers so that every handler it queued completes
// promptly; after stop() the source appends nothing more.
//
// Degraded: a source that lacks a privilege (a capability, a group, access to a file or socket)
// either stays off or runs with less (PSI polling instead of kernel triggers). It says so once, as
// a warning naming the source, what is missing and the fix (DegradedNote), and degraded() returns
// that text for as long as it holds, so the agent can report the source's state.
#pragma once

#include <string>
#include <string_view>

namespace octolaunch::sources {

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  virtual bool start() = 0;
  virtual void stop() = 0;
  // What the source lacks and the fix; empty when it lacks nothing. On the sources' thread.
  virtual std::string degraded() const { return {}; }
};

// A source's degraded state: set() logs "sources: NAME: WHAT; fix: FIX" as a warning the first
// time only (an agent never repeats it), and keeps "WHAT; fix: FIX" for Source::degraded().
class DegradedNote final {
 public:
  void set(std::string_view source, const std::string& what, std::string_view fix);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace octolaunch::sources
