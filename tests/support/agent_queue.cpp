#include "tests/support/agent_queue.h"

#include <cstdio>
#include <stdexcept>

#include "agent/local/fallback_queue.h"
#include "agent/local/local_records.h"
#include "agent/spool/spool.h"
#include "tests/support/wait.h"

namespace octolaunch::testing {

std::size_t importAgentQueue(const std::filesystem::path& spoolDir,
                             std::chrono::milliseconds timeout,
                             const std::filesystem::path& queueDir) {
  const auto queue = queueDir.empty() ? spoolDir.parent_path() / "queue" : queueDir;
  auto spool = agent::Spool::open({spoolDir, std::uint64_t{256} << 20});
  agent::LocalRecords records(*spool, [](const agent::DeployFinished&) {});
  std::size_t batches = 0;
  if (!std::filesystem::exists(queue)) return 0;
  const bool done = waitUntil(
      [&] {
        auto stats = agent::importQueue(queue, [&](uid_t owner, auto batch) {
          const auto result = records.accept(owner, batch);
          if (result.status == agent::LocalRecords::Status::refused)
            std::fprintf(stderr, "queued batch refused: %s\n", result.error.c_str());
          return result.status == agent::LocalRecords::Status::failed
                     ? agent::ImportVerdict::retryLater
                     : agent::ImportVerdict::done;
        });
        batches += stats.batches;
        for (const auto& problem : stats.problems) std::fprintf(stderr, "%s\n", problem.c_str());
        return stats.busy == 0 && stats.kept == 0;
      },
      timeout, std::chrono::milliseconds(10));
  if (!done) throw std::runtime_error("queue files still being written in " + queue.string());
  return batches;
}

}  // namespace octolaunch::testing
