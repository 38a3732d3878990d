// The [analysis] section of collector.toml: deploy window lengths and how services map to units,
// containers and processes on the hosts.
//
//   [analysis]
//   deploy_grace_seconds = 900        # window = deploy.start .. deploy.finish + grace
//   deploy_max_seconds = 3600         # a window without deploy.finish closes after this
//   marker_lookback_seconds = 86400   # how far back to look for the deploy a release replaced
//   timeline_max_events_per_host = 0  # 0: all
//   [analysis.services.api]
//   units = ["api.service", "api-worker@1.service"]
//   containers = ["api"]
//   images = ["registry.acme.io/api"]
//   processes = ["gunicorn"]
//
// parseAnalysisConfig() throws AnalysisConfigError naming the file and key
// ("collector.toml: analysis.deploy_grace_seconds: expected an integer from 0 to 604800").
// A table without [analysis] gives the defaults.
#pragma once

#include <toml++/toml.h>

#include <stdexcept>
#include <string_view>

#include "collector/analysis/release_analysis.h"

namespace octolaunch::analysis {

class AnalysisConfigError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

AnalysisOptions parseAnalysisConfig(const toml::table& root, std::string_view fileName);

}  // namespace octolaunch::analysis
