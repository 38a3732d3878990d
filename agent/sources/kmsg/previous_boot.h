// Recovering the kernel OOM kills of the previous boot from the persistent journal: a host often
// reboots because of the OOM (or the agent itself was killed by it), so what /dev/kmsg held is
// gone, but journald kept the kernel's lines (_TRANSPORT=kernel) under that boot's _BOOT_ID.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/parse/oom_kill.h"

namespace octolaunch::sources {

struct PreviousBootOoms {
  std::vector<parse::OomKill> kills;  // source "journal", realtimeNs from the journal entry
  std::uint64_t entriesRead = 0;
  std::string error;  // why nothing could be read (no journal, ...); empty on success
};

// Reads the kernel messages of boot `bootId` (32 hex digits, as _BOOT_ID spells it) logged after
// kernel time afterMonoUsec (the last kmsg record the agent saw in that boot; 0 for all) from the
// journal in `journalDir` (empty: the local system journal) and assembles their OOM kills.
// Blocking file I/O; call once at start-up.
PreviousBootOoms recoverPreviousBootOoms(const std::filesystem::path& journalDir,
                                         const std::string& bootId, std::uint64_t afterMonoUsec);

}  // namespace octolaunch::sources
