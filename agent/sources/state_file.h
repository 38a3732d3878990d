// Small persistent state of a source (the last kmsg seq of a boot, a journal cursor): a file of
// "key=value" lines in the agent's state directory, replaced atomically (write, fsync, rename) so
// a crash leaves either the old or the new state, never a torn one.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace octolaunch::sources {

using StateValues = std::map<std::string, std::string>;

// The values in path; nullopt when the file does not exist or cannot be read. Lines that are
// not key=value are ignored.
std::optional<StateValues> readStateFile(const std::filesystem::path& path);

// Replaces path with values. Returns false (and logs once per call) when it cannot be written.
bool writeStateFile(const std::filesystem::path& path, const StateValues& values);

// The kernel's id of this boot (/proc/sys/kernel/random/boot_id), without dashes as
// sd-journal's _BOOT_ID spells it; empty when unreadable.
std::string currentBootId(const std::filesystem::path& file = "/proc/sys/kernel/random/boot_id");

}  // namespace octolaunch::sources
