// The part of the kernel's cgroup tree that is this host's, when the agent shares a kernel with
// others (an agent in a container, a test fleet of simulated hosts on one machine). The kernel
// log reports every OOM kill of the machine; an OOM kill or invocation whose cgroup lies outside
// the scope is not this host's and is not recorded. Other events are not cgroup-bound here.
// An empty scope (the default) admits everything: on a VM the whole tree is the host's.
#pragma once

#include <string>
#include <string_view>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::sources {

class CgroupScope final {
 public:
  CgroupScope() = default;
  // scope: a cgroup path as the kernel prints it ("/a/b"); trailing slashes are ignored.
  explicit CgroupScope(std::string scope);

  bool admits(schema::Event::Reader event) const;
  // True when cgroup is the scope itself or lies below it.
  bool contains(std::string_view cgroup) const;
  bool empty() const { return scope_.empty(); }

 private:
  std::string scope_;
};

}  // namespace octolaunch::sources
