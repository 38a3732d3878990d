// What a user knows a cgroup by: the systemd unit or the container id.
// Pure string functions on cgroup paths as the kernel prints them ("/system.slice/api.service").
#pragma once

#include <string>
#include <string_view>

namespace octolaunch::parse {

// The deepest ".service" / ".scope" / ".socket" / ".mount" / ".swap" path component that is not a
// container scope: "/system.slice/api.service" -> "api.service",
// "/system.slice/api.service/worker" -> "api.service",
// "/user.slice/user-1000.slice/session-3.scope" -> "session-3.scope". Empty when none.
std::string unitFromCgroup(std::string_view cgroup);

// The 64-hex container id in a cgroup path: docker-<id>.scope, libpod-<id>.scope (not
// libpod-conmon-), crio-<id>.scope, cri-containerd-<id>.scope, /docker/<id>, /libpod_parent/...,
// /kubepods/.../pod<uid>/<id>. Empty when none.
std::string containerIdFromCgroup(std::string_view cgroup);

}  // namespace octolaunch::parse
