// Where a hook's command runs: the command's cgroup as the kernel
// names it in an OOM kill, so the collector can tie an oom.kill to the hook.exit it caused.
//
// Contract
//  * cgroupFromProcCgroup() is pure and never throws on any text. It returns the path of the v1
//    "memory" controller's line when there is one (on a hybrid host the memory controller is a v1
//    hierarchy, and that is the memcg the kernel's oom-kill line names), else the v2 "0::" path,
//    else "".
//  * The cgroup is read once, right after the command started: a descendant that moves itself
//    into a cgroup of its own later (`systemd-run --scope`) is not followed.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace octolaunch::agent {

// From the text of /proc/<pid>/cgroup: "/system.slice/api.service", or "" when neither line is
// there.
std::string cgroupFromProcCgroup(std::string_view procCgroup);

// The cgroup of a running (or not yet reaped) process; "" when /proc/<pid>/cgroup cannot be read.
std::string cgroupOfProcess(pid_t pid);

}  // namespace octolaunch::agent
