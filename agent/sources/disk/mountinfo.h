// /proc/self/mountinfo, and which of its mounts are real filesystems worth watching for space.
// Pure; never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::sources {

struct MountEntry {
  std::string device;      // "major:minor"
  std::string mountPoint;  // octal escapes (\040) decoded
  std::string fsType;
  std::string source;     // "/dev/vda1", "tmpfs", ...
  bool readOnly = false;  // per-mount "ro"
};

// Every well-formed line of a mountinfo file; malformed lines are skipped.
std::vector<MountEntry> parseMountinfo(std::string_view text);

// Filesystems whose space is not a disk (proc, sysfs, cgroup, ...), network filesystems whose
// statvfs may hang, and read-only images (squashfs, iso9660) are not watched; tmpfs only when
// asked.
bool isWatchedFilesystem(const MountEntry& mount, bool includeTmpfs);

}  // namespace octolaunch::sources
