#include "collector/analysis/analysis_config.h"

#include <algorithm>
#include <string>

namespace octolaunch::analysis {

namespace {

using config::TableReader;

constexpr std::int64_t kNsPerSec = 1'000'000'000;
constexpr std::int64_t kWeek = 7 * 24 * 3600;

void readNanos(TableReader& reader, std::string_view key, std::int64_t& ns, std::int64_t minSeconds,
               std::int64_t maxSeconds) {
  std::int64_t seconds = 0;
  if (reader.read(key, seconds, minSeconds, maxSeconds)) ns = seconds * kNsPerSec;
}

void readNames(TableReader& reader, std::string_view key, std::vector<std::string>& out) {
  std::vector<std::string> names;
  if (!reader.read(key, names)) return;
  if (std::find(names.begin(), names.end(), "") != names.end()) {
    reader.reject(key, "names must not be empty");
    return;
  }
  out = std::move(names);
}

}  // namespace

AnalysisOptions readAnalysisConfig(const toml::table& root, config::ConfigReport& report) {
  AnalysisOptions o;
  TableReader analysis = TableReader::topSection(root, "analysis", report);
  readNanos(analysis, "deploy_grace_seconds", o.window.graceNs, 0, kWeek);
  readNanos(analysis, "deploy_max_seconds", o.window.maxOpenNs, 1, kWeek);
  readNanos(analysis, "marker_lookback_seconds", o.markerLookbackNs, 0, 30 * 24 * 3600);
  analysis.read("timeline_max_events_per_host", o.timeline.maxEventsPerHost, 0, 10'000'000);
  readNanos(analysis, "condition_lookback_seconds", o.conditionLookbackNs, 0, 30 * 24 * 3600);
  analysis.read("pressure_some_avg10_percent", o.causes.pressureSomeAvg10, 0.0, 100.0);
  analysis.read("pressure_full_avg10_percent", o.causes.pressureFullAvg10, 0.0, 100.0);
  readNanos(analysis, "pressure_min_seconds", o.causes.pressureMinNs, 0, 24 * 3600);
  readNanos(analysis, "pressure_merge_gap_seconds", o.causes.pressureMergeGapNs, 0, 24 * 3600);
  std::int64_t ms = 0;
  if (analysis.read("clock_floor_ms", ms, 0, 60'000)) o.clockFloorNs = ms * 1'000'000;
  if (analysis.read("unmeasured_clock_uncertainty_ms", ms, 0, 3'600'000))
    o.unmeasuredClockUncertaintyNs = ms * 1'000'000;
  TableReader services = analysis.section("services");
  if (services.table() == nullptr) return o;
  for (const auto& [key, value] : *services.table()) {
    const std::string name(key.str());
    TableReader service = services.section(name);
    if (service.table() == nullptr) continue;
    ServiceMapping m;
    readNames(service, "units", m.units);
    readNames(service, "containers", m.containers);
    readNames(service, "images", m.images);
    readNames(service, "processes", m.processes);
    o.mappings[name] = std::move(m);
  }
  return o;
}

AnalysisOptions parseAnalysisConfig(const toml::table& root) {
  config::ConfigReport report;
  AnalysisOptions options = readAnalysisConfig(root, report);
  report.settle(config::Strictness::strict);
  return options;
}

}  // namespace octolaunch::analysis
