#include "agent/sources/cgroup_scope.h"

#include <utility>

namespace octolaunch::sources {

CgroupScope::CgroupScope(std::string scope) : scope_(std::move(scope)) {
  while (scope_.size() > 1 && scope_.back() == '/') scope_.pop_back();
  if (scope_ == "/") scope_.clear();
}

bool CgroupScope::contains(std::string_view cgroup) const {
  if (scope_.empty()) return true;
  if (!cgroup.starts_with(scope_)) return false;
  return cgroup.size() == scope_.size() || cgroup[scope_.size()] == '/';
}

bool CgroupScope::admits(schema::Event::Reader event) const {
  if (scope_.empty()) return true;
  auto p = event.getPayload();
  auto cgroupOf = [](schema::OomKill::Reader o) {
    auto task = o.getTaskMemcg();
    return std::string_view(task.size() > 0 ? task.cStr() : o.getMemcg().cStr());
  };
  switch (p.which()) {
    case schema::Event::Payload::OOM_KILL:
      return contains(cgroupOf(p.getOomKill()));
    case schema::Event::Payload::OOM_INVOCATION:
      return contains(cgroupOf(p.getOomInvocation()));
    default:
      return true;
  }
}

}  // namespace octolaunch::sources
