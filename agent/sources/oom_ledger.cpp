#include "agent/sources/oom_ledger.h"

#include <algorithm>
#include <cstdlib>

namespace octolaunch::sources {

namespace {
bool within(std::int64_t a, std::int64_t b, std::int64_t window) {
  return (a > b ? a - b : b - a) <= window;
}
std::string_view victimCgroup(const OomLedger::Kill& kill) {
  return kill.taskMemcg.empty() ? std::string_view(kill.memcg) : kill.taskMemcg;
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
    if (kill.claimed || !kill.reported || !within(kill.timeNs, timeNs, windowNs)) continue;
    if (!cgroupContains(cgroup, victimCgroup(kill))) continue;
    kill.claimed = true;
    ++claimed;
  }
  return claimed;
}

std::optional<OomLedger::Kill> OomLedger::claimUnreported(std::string_view cgroup,
                                                          std::int64_t timeNs,
                                                          std::int64_t windowNs) {
  for (auto& kill : kills_) {
    if (kill.claimed || kill.reported || !within(kill.timeNs, timeNs, windowNs)) continue;
    if (!cgroupContains(cgroup, victimCgroup(kill))) continue;
    const bool sentByAnother = std::any_of(kills_.begin(), kills_.end(), [&](const Kill& other) {
      return other.reported && other.pid == kill.pid && within(other.timeNs, kill.timeNs, windowNs);
    });
    kill.claimed = true;
    if (!sentByAnother) return kill;
  }
  return std::nullopt;
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
