// The agent's report about itself (rpc.capnp, AgentHealth), sent by the shipper after each hello
// and every healthReportMs: spool depth and bytes, events shed, the last push's round trip, the
// problems each host source logged, and local hand-overs that failed.
//
// Source problems are counted where every source already reports them, in its log: a warning or
// error whose text starts "sources: NAME: " counts for NAME (kmsg, journal, psi, cgroup, disk,
// fd, containers), one starting "health: " for "health", any other "sources: " line for
// "sources". A source that logs a problem once (a degraded mode) counts it once.
//
// Threads: SourceProblemSink is an spdlog sink, called on any thread that logs; counts() from any
// thread. AgentHealthReport is plain data.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octolaunch/schema/rpc.capnp.h"

namespace octolaunch::agent {

struct AgentHealthReport {
  std::uint64_t spoolEvents = 0;
  std::uint64_t spoolBytes = 0;
  std::uint64_t eventsShed = 0;
  std::optional<std::int64_t> shipLatencyNs;
  std::uint64_t recordingFailures = 0;
  std::vector<std::pair<std::string, std::uint64_t>> sourceErrors;  // by name
};

void fillAgentHealth(schema::AgentHealth::Builder out, const AgentHealthReport& report);

// The source a log line is about (see above), or nullopt when it is not a source's line.
std::optional<std::string> sourceOfLogLine(std::string_view text);

class SourceProblemSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Warnings and errors per source since the sink was made, by source name.
  std::vector<std::pair<std::string, std::uint64_t>> counts() const;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  mutable std::mutex countsMutex_;
  std::map<std::string, std::uint64_t> counts_;  // guarded by countsMutex_
};

}  // namespace octolaunch::agent
