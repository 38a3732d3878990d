// The [analysis] section of collector.toml: deploy window lengths and how services map to units,
// containers and processes on the hosts.
//
//   [analysis]
//   deploy_grace_seconds = 900        # window = deploy.start .. deploy.finish + grace
//   deploy_max_seconds = 3600         # a window without deploy.finish closes after this
//   marker_lookback_seconds = 86400   # how far back to look for the deploy a release replaced
//   timeline_max_events_per_host = 0  # 0: all
//   condition_lookback_seconds = 86400  # how far back a condition still true at deploy start is
//   pressure_some_avg10_percent = 40    # a pressure episode is a cause at or over some avg10 ...
//   pressure_full_avg10_percent = 10    # ... or full avg10 ...
//   pressure_min_seconds = 30           # ... held this long (cause.h, CauseOptions, says why)
//   pressure_merge_gap_seconds = 30     # raised again within this after clearing: one episode
//   clock_floor_ms = 50                 # added to half a measured round trip
//   unmeasured_clock_uncertainty_ms = 2000  # for a host whose agent never measured its clock
//   [analysis.services.api]
//   units = ["api.service", "api-worker@1.service"]
//   containers = ["api"]
//   images = ["registry.acme.io/api"]
//   processes = ["gunicorn"]
//
// Read strictly, like all of collector.toml (shared/config/toml_reader.h): parseAnalysisConfig()
// throws ConfigError naming file, line and key of every problem
// ("collector.toml:3: analysis.deploy_grace_seconds: expected an integer, got a string").
// A table without [analysis] gives the defaults.
#pragma once

#include <toml++/toml.h>

#include "collector/analysis/release_analysis.h"
#include "shared/config/toml_reader.h"

namespace octolaunch::analysis {

// Reads [analysis] of the whole collector.toml table; problems go to `report`.
AnalysisOptions readAnalysisConfig(const toml::table& root, config::ConfigReport& report);
// readAnalysisConfig() strictly: throws config::ConfigError naming every problem.
AnalysisOptions parseAnalysisConfig(const toml::table& root);

}  // namespace octolaunch::analysis
