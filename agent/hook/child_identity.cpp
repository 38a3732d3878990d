#include "agent/hook/child_identity.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

namespace octolaunch::agent {

namespace {

// True when the comma-separated controller list names `controller`.
bool listsController(std::string_view list, std::string_view controller) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    if (list.substr(0, comma) == controller) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string cgroupFromProcCgroup(std::string_view procCgroup) {
  std::string_view unified;
  bool haveUnified = false;
  while (!procCgroup.empty()) {
    std::size_t eol = procCgroup.find('\n');
    std::string_view line = procCgroup.substr(0, eol);
    procCgroup.remove_prefix(eol == std::string_view::npos ? procCgroup.size() : eol + 1);
    // "hierarchy-id:controller-list:path"; the path may itself contain ':'.
    std::size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    std::size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view id = line.substr(0, first);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (listsController(controllers, "memory")) return std::string(path);
    if (id == "0" && controllers.empty()) {
      unified = path;
      haveUnified = true;
    }
  }
  return haveUnified ? std::string(unified) : std::string();
}

std::string cgroupOfProcess(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  if (!in) return "";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cgroupFromProcCgroup(text);
}

}  // namespace octolaunch::agent
