// For tests that run `hook` or `deploy` without a daemon: their records wait in the fallback queue
// beside the spool (agent/local/fallback_queue.h). importAgentQueue() waits until no writer holds
// a queue file any more (a detached hook recorder still writing), then imports every file into the
// spool as the daemon does (LocalRecords: checked, credited to the file's owner, stored once) and
// deletes it. Opens the spool itself: not while this process has it open.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace octolaunch::testing {

// Returns the batches imported; throws std::runtime_error when files are still being written
// after `timeout`. queueDir: empty for the default, "queue" beside the spool directory.
std::size_t importAgentQueue(const std::filesystem::path& spoolDir,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30),
                             const std::filesystem::path& queueDir = {});

}  // namespace octolaunch::testing
