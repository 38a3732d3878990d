// cgroup memory counters: v2 memory.events / memory.events.local (low, high, max, oom, oom_kill,
// oom_group_kill, sock_throttled) and v1 memory.oom_control (oom_kill_disable, under_oom,
// oom_kill). Pure; never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace octolaunch::parse {

struct MemoryEvents {
  std::vector<std::pair<std::string, std::uint64_t>> counters;  // every "key value" line, in order
  std::size_t skipped = 0;                                      // lines not understood

  std::optional<std::uint64_t> get(std::string_view key) const;
  // oom_kill: present in v2 memory.events and v1 memory.oom_control (kernel 4.13+).
  std::optional<std::uint64_t> oomKill() const { return get("oom_kill"); }
  // v1 files have under_oom / oom_kill_disable; v2 files have max / oom.
  bool isV1() const { return get("under_oom").has_value() || get("oom_kill_disable").has_value(); }
};

MemoryEvents parseMemoryEvents(std::string_view text);

}  // namespace octolaunch::parse
