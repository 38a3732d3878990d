// Recent OOM kills, shared by the sources that see the same kill from different sides, so that
// one kill is one event:
//  * the kmsg source records each kill it reported (reported = true);
//  * the journal source records the kernel's kills it read in the journal without reporting them
//    (reported = false: the kmsg source reports the kernel's kills);
//  * the cgroup source, seeing oom_kill counters rise, claims the reported kills and reports only
//    the others, named (pid, process, time) from an unreported kill of that cgroup when one is
//    known;
//  * the journal source asks whether a failed unit's process was OOM-killed (the kernel's lines
//    name the cgroup, systemd on cgroup v1 only says signal 9/KILL).
// Times are wall-clock UTC nanoseconds. Bounded (oldest entries dropped). io thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace octolaunch::sources {

class OomLedger final {
 public:
  struct Kill {
    std::int64_t timeNs = 0;
    std::int32_t pid = 0;
    std::string process;    // the victim's name
    std::string memcg;      // the cgroup whose limit was hit
    std::string taskMemcg;  // the victim's cgroup
    std::string unit;
    bool reported = true;  // its source sent it as an oom.kill event
    bool claimed = false;  // already matched to a memory-events counter increase
  };

  explicit OomLedger(std::size_t capacity = 256) : capacity_(capacity) {}

  void record(Kill kill);
  // Claims up to `count` unclaimed reported kills whose victim cgroup is `cgroup` or below it,
  // seen within windowNs of timeNs. Returns how many were claimed.
  std::size_t claim(std::string_view cgroup, std::int64_t timeNs, std::int64_t windowNs,
                    std::size_t count);
  // Claims the oldest unclaimed unreported kill in `cgroup` (or below) within windowNs of timeNs
  // that is not the same kill (pid) as a reported one; nullopt when there is none.
  std::optional<Kill> claimUnreported(std::string_view cgroup, std::int64_t timeNs,
                                      std::int64_t windowNs);
  // Whether a kill in `unit` (victim's unit, or the cgroup path ends in "/unit") was seen within
  // windowNs of timeNs.
  bool killedInUnit(std::string_view unit, std::int64_t timeNs, std::int64_t windowNs) const;

  std::size_t size() const { return kills_.size(); }

 private:
  std::size_t capacity_;
  std::deque<Kill> kills_;
};

// Whether `path` is `cgroup` or a descendant of it ("/a/b" is below "/a", "/ab" is not).
bool cgroupContains(std::string_view cgroup, std::string_view path);

}  // namespace octolaunch::sources
