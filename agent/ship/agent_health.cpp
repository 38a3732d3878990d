#include "agent/ship/agent_health.h"

#include <algorithm>

namespace octolaunch::agent {

namespace {

// The characters the collector takes in a source name (rpc.capnp, Ingest.report).
bool isSourceName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace

void fillAgentHealth(schema::AgentHealth::Builder out, const AgentHealthReport& report) {
  out.setSpoolEvents(report.spoolEvents);
  out.setSpoolBytes(report.spoolBytes);
  out.setEventsShed(report.eventsShed);
  out.setShipLatencyNs(report.shipLatencyNs.value_or(-1));
  out.setRecordingFailures(report.recordingFailures);
  auto sources = out.initSourceErrors(static_cast<unsigned>(report.sourceErrors.size()));
  for (unsigned i = 0; i < sources.size(); ++i) {
    sources[i].setSource(report.sourceErrors[i].first);
    sources[i].setCount(report.sourceErrors[i].second);
  }
}

std::optional<std::string> sourceOfLogLine(std::string_view text) {
  constexpr std::string_view kSources = "sources: ";
  constexpr std::string_view kHealth = "health: ";
  if (text.substr(0, kHealth.size()) == kHealth) return std::string("health");
  if (text.substr(0, kSources.size()) != kSources) return std::nullopt;
  const std::string_view rest = text.substr(kSources.size());
  const std::size_t colon = rest.find(": ");
  if (colon != std::string_view::npos && isSourceName(rest.substr(0, colon))) {
    return std::string(rest.substr(0, colon));
  }
  return std::string("sources");
}

std::vector<std::pair<std::string, std::uint64_t>> SourceProblemSink::counts() const {
  std::lock_guard lock(countsMutex_);
  return {counts_.begin(), counts_.end()};
}

void SourceProblemSink::sink_it_(const spdlog::details::log_msg& msg) {
  if (msg.level < spdlog::level::warn || msg.level == spdlog::level::off) return;
  auto source = sourceOfLogLine(std::string_view(msg.payload.data(), msg.payload.size()));
  if (!source) return;
  std::lock_guard lock(countsMutex_);
  ++counts_[*source];
}

}  // namespace octolaunch::agent
