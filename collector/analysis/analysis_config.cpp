#include "collector/analysis/analysis_config.h"

#include <string>

namespace octolaunch::analysis {

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;

[[noreturn]] void fail(std::string_view file, const std::string& key, const std::string& what) {
  throw AnalysisConfigError(std::string(file) + ": " + key + ": " + what);
}

std::int64_t seconds(const toml::table& t, std::string_view file, const char* key, std::int64_t def,
                     std::int64_t max) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  auto v = n->value<std::int64_t>();
  if (!n->is_integer() || !v || *v < 0 || *v > max) {
    fail(file, std::string("analysis.") + key,
         "expected an integer from 0 to " + std::to_string(max));
  }
  return *v;
}

std::vector<std::string> strings(const toml::table& t, std::string_view file,
                                 const std::string& prefix, const char* key) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) fail(file, prefix + key, "expected an array of strings");
  for (const auto& item : *a) {
    auto s = item.value<std::string>();
    if (!item.is_string() || !s || s->empty())
      fail(file, prefix + key, "expected an array of non-empty strings");
    out.push_back(*s);
  }
  return out;
}

}  // namespace

AnalysisOptions parseAnalysisConfig(const toml::table& root, std::string_view file) {
  AnalysisOptions o;
  const toml::node* node = root.get("analysis");
  if (!node) return o;
  const toml::table* t = node->as_table();
  if (!t) fail(file, "analysis", "expected a table");
  constexpr std::int64_t week = 7 * 24 * 3600;
  o.window.graceNs =
      seconds(*t, file, "deploy_grace_seconds", o.window.graceNs / kNsPerSec, week) * kNsPerSec;
  o.window.maxOpenNs =
      seconds(*t, file, "deploy_max_seconds", o.window.maxOpenNs / kNsPerSec, week) * kNsPerSec;
  if (o.window.maxOpenNs == 0) fail(file, "analysis.deploy_max_seconds", "must be greater than 0");
  o.markerLookbackNs =
      seconds(*t, file, "marker_lookback_seconds", o.markerLookbackNs / kNsPerSec, 30 * 24 * 3600) *
      kNsPerSec;
  o.timeline.maxEventsPerHost =
      static_cast<std::size_t>(seconds(*t, file, "timeline_max_events_per_host", 0, 10'000'000));
  for (const auto& [key, value] : *t) {
    std::string k(key.str());
    if (k == "services") continue;
    if (k != "deploy_grace_seconds" && k != "deploy_max_seconds" &&
        k != "marker_lookback_seconds" && k != "timeline_max_events_per_host") {
      fail(file, "analysis." + k, "unknown key");
    }
  }
  if (const toml::node* s = t->get("services")) {
    const toml::table* services = s->as_table();
    if (!services) fail(file, "analysis.services", "expected a table of [analysis.services.NAME]");
    for (const auto& [name, value] : *services) {
      std::string prefix = "analysis.services." + std::string(name.str()) + ".";
      const toml::table* svc = value.as_table();
      if (!svc) fail(file, prefix.substr(0, prefix.size() - 1), "expected a table");
      ServiceMapping m;
      m.units = strings(*svc, file, prefix, "units");
      m.containers = strings(*svc, file, prefix, "containers");
      m.images = strings(*svc, file, prefix, "images");
      m.processes = strings(*svc, file, prefix, "processes");
      for (const auto& [k, v] : *svc) {
        std::string key(k.str());
        if (key != "units" && key != "containers" && key != "images" && key != "processes") {
          fail(file, prefix + key, "unknown key (units, containers, images, processes)");
        }
      }
      o.mappings[std::string(name.str())] = std::move(m);
    }
  }
  return o;
}

}  // namespace octolaunch::analysis
