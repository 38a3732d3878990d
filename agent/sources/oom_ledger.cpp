#include "agent/sources/oom_ledger.h"

#include <cstdlib>

namespace octolaunch::sources {

namespace {
bool within(std::int64_t a, std::int64_t b, std::int64_t window) {
  return (a > b ? a - b : b - a) <= window;
}
bool endsWithComponent(std::string_view path, std::string_view unit) {
  if (unit.empty() || path.size() < unit.size()) return false;
  if (path.substr(path.size() - unit.size()) != unit) return false;
  return path.size() == unit.size() || path[path.size() - unit.size() - 1] == '/';
}
}  // namespace

bool cgroupContains(std::string_view cgroup, std::string_view path) {
  while (cgroup.size() > 1 && cgroup.back() == '/') cgroup.remove_suffix(1);
  if (cgroup.empty() || cgroup == "/") return true;
  if (path.substr(0, cgroup.size()) != cgroup) return false;
  return path.size() == cgroup.size() || path[cgroup.size()] == '/';
}

void OomLedger::record(Kill kill) {
  kills_.push_back(std::move(kill));
  while (kills_.size() > capacity_) kills_.pop_front();
}

std::size_t OomLedger::claim(std::string_view cgroup, std::int64_t timeNs, std::int64_t windowNs,
                             std::size_t count) {
  std::size_t claimed = 0;
  for (auto& kill : kills_) {
    if (claimed == count) break;
    if (kill.claimed || !within(kill.timeNs, timeNs, windowNs)) continue;
    const std::string_view victim =
        kill.taskMemcg.empty() ? std::string_view(kill.memcg) : kill.taskMemcg;
    if (!cgroupContains(cgroup, victim)) continue;
    kill.claimed = true;
    ++claimed;
  }
  return claimed;
}

bool OomLedger::killedInUnit(std::string_view unit, std::int64_t timeNs,
                             std::int64_t windowNs) const {
  if (unit.empty()) return false;
  for (const auto& kill : kills_) {
    if (!within(kill.timeNs, timeNs, windowNs)) continue;
    if (kill.unit == unit || endsWithComponent(kill.taskMemcg, unit) ||
        endsWithComponent(kill.memcg, unit)) {
      return true;
    }
  }
  return false;
}

}  // namespace octolaunch::sources
