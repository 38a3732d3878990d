#include "agent/parse/cgroup_path.h"

#include <array>
#include <vector>

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

bool isHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    std::string_view c = path.substr(0, slash);
    if (!c.empty()) out.push_back(c);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The container id a single path component names, or "".
std::string_view containerIdOf(std::string_view c) {
  if (isHex64(c)) return c;  // /docker/<id>, /kubepods/.../pod<uid>/<id>, /libpod_parent/<id>
  if (endsWith(c, ".scope")) c.remove_suffix(6);
  if (startsWith(c, "libpod-conmon-")) return {};  // podman's monitor, not the container
  static constexpr std::array<std::string_view, 5> kPrefixes = {"docker-", "libpod-", "crio-",
                                                                "cri-containerd-", "containerd-"};
  for (auto prefix : kPrefixes) {
    if (startsWith(c, prefix) && isHex64(c.substr(prefix.size()))) return c.substr(prefix.size());
  }
  return {};
}

}  // namespace

std::string unitFromCgroup(std::string_view cgroup) {
  static constexpr std::array<std::string_view, 5> kSuffixes = {".service", ".scope", ".socket",
                                                                ".mount", ".swap"};
  std::string_view best;
  for (auto c : components(cgroup)) {
    if (!containerIdOf(c).empty() || startsWith(c, "libpod-conmon-")) continue;
    for (auto suffix : kSuffixes) {
      if (c.size() > suffix.size() && endsWith(c, suffix)) best = c;
    }
  }
  return sanitizeUtf8(best);
}

std::string containerIdFromCgroup(std::string_view cgroup) {
  std::string_view best;
  for (auto c : components(cgroup)) {
    auto id = containerIdOf(c);
    if (!id.empty())
      best = id;  // the deepest (a container nested in a container's cgroup: the inner one)
  }
  return std::string(best);
}

}  // namespace octolaunch::parse
