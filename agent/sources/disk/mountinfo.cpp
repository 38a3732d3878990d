#include "agent/sources/disk/mountinfo.h"

#include <array>

namespace octolaunch::sources {

namespace {

std::vector<std::string_view> splitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string unescapeOctal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool hasOption(std::string_view options, std::string_view option) {
  std::size_t i = 0;
  while (i <= options.size()) {
    const std::size_t comma = options.find(',', i);
    const std::string_view o =
        options.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
    if (o == option) return true;
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  return false;
}

}  // namespace

std::vector<MountEntry> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    const auto fields = splitSpaces(line);
    std::size_t dash = 0;
    for (std::size_t i = 6; i < fields.size(); ++i) {
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    }
    if (dash == 0 || fields.size() < dash + 3) continue;
    MountEntry entry;
    entry.device = std::string(fields[2]);
    entry.mountPoint = unescapeOctal(fields[4]);
    entry.readOnly = hasOption(fields[5], "ro");
    entry.fsType = std::string(fields[dash + 1]);
    entry.source = unescapeOctal(fields[dash + 2]);
    out.push_back(std::move(entry));
  }
  return out;
}

bool isWatchedFilesystem(const MountEntry& mount, bool includeTmpfs) {
  static constexpr std::array<std::string_view, 36> kSkipped = {
      "proc",        "sysfs",       "cgroup",
      "cgroup2",     "devtmpfs",    "devpts",
      "securityfs",  "pstore",      "bpf",
      "tracefs",     "debugfs",     "configfs",
      "fusectl",     "mqueue",      "hugetlbfs",
      "autofs",      "binfmt_misc", "nsfs",
      "ramfs",       "efivarfs",    "rpc_pipefs",
      "nfsd",        "selinuxfs",   "squashfs",
      "iso9660",     "fuse.lxcfs",  "fuse.gvfsd-fuse",
      "fuse.portal", "nfs",         "nfs4",
      "cifs",        "smb3",        "fuse.sshfs",
      "ceph",        "glusterfs",   "fuse.s3fs"};
  if (mount.readOnly) return false;  // cannot fill up
  if (mount.fsType == "tmpfs") return includeTmpfs;
  // Container runtimes mount one overlay per container on top of the host's own filesystem:
  // only the root overlay (the agent itself runs in a container) is the agent's to watch.
  if (mount.fsType == "overlay") return mount.mountPoint == "/";
  for (auto skipped : kSkipped) {
    if (mount.fsType == skipped) return false;
  }
  return true;
}

}  // namespace octolaunch::sources
