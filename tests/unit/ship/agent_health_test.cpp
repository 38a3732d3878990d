// What counts as a source's problem in the agent's health report.
#include "agent/ship/agent_health.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>

namespace octolaunch::agent {
namespace {

TEST(AgentHealth, SourceLinesAreNamedByTheirPrefix) {
  EXPECT_EQ(sourceOfLogLine("sources: kmsg: read failed: EIO"), "kmsg");
  EXPECT_EQ(sourceOfLogLine("sources: psi: /proc/pressure/io missing; source off"), "psi");
  EXPECT_EQ(sourceOfLogLine("health: api http://x failed: timeout"), "health");
  // No one-word source name: counted for the sources as a whole.
  EXPECT_EQ(sourceOfLogLine("sources: cannot write state file /x: ENOSPC"), "sources");
  EXPECT_EQ(sourceOfLogLine("sources: Odd Name: x"), "sources");
  EXPECT_EQ(sourceOfLogLine("lost collector 127.0.0.1:7701: refused"), std::nullopt);
  EXPECT_EQ(sourceOfLogLine("config: unknown key"), std::nullopt);
}

TEST(AgentHealth, TheSinkCountsWarningsAndErrorsOfSourcesOnly) {
  auto sink = std::make_shared<SourceProblemSink>();
  spdlog::logger logger("test", sink);
  logger.set_level(spdlog::level::trace);
  logger.warn("sources: kmsg: records were overwritten before they were read");
  logger.error("sources: kmsg: read failed: {}", "EIO");
  logger.info("sources: kmsg: running");  // not a problem
  logger.warn("health: probe failed");
  logger.warn("cannot ship to collector");  // not a source
  EXPECT_EQ(sink->counts(),
            (std::vector<std::pair<std::string, std::uint64_t>>{{"health", 1}, {"kmsg", 2}}));
}

}  // namespace
}  // namespace octolaunch::agent
