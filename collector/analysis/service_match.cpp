#include "collector/analysis/service_match.h"

#include <algorithm>

namespace octolaunch::analysis {

namespace {

bool contains(std::string_view hay, std::string_view needle) {
  return !needle.empty() && hay.find(needle) != std::string_view::npos;
}

bool unitMatches(std::string_view unit, std::string_view service, const ServiceMapping* m) {
  if (unit.empty()) return false;
  if (m && std::find(m->units.begin(), m->units.end(), unit) != m->units.end()) return true;
  std::string plain = std::string(service) + ".service";
  std::string templ = std::string(service) + "@";
  return unit == plain || (unit.starts_with(templ) && unit.ends_with(".service"));
}

bool cgroupMatches(std::string_view cgroup, std::string_view service, const ServiceMapping* m) {
  // ".../system.slice/api.service" or ".../api@1.service/..." : look at each path component.
  std::size_t pos = 0;
  while (pos <= cgroup.size()) {
    std::size_t next = cgroup.find('/', pos);
    if (next == std::string_view::npos) next = cgroup.size();
    if (unitMatches(cgroup.substr(pos, next - pos), service, m)) return true;
    pos = next + 1;
  }
  return false;
}

bool containerMatches(const EventFact& f, std::string_view service, const ServiceMapping* m) {
  if (contains(f.containerName, service) || contains(f.image, service)) return true;
  if (!m) return false;
  for (const auto& c : m->containers) {
    if (contains(f.containerName, c)) return true;
  }
  for (const auto& i : m->images) {
    if (contains(f.image, i)) return true;
  }
  return false;
}

}  // namespace

bool concernsService(const EventFact& f, std::string_view service,
                     const ServiceMappings& mappings) {
  if (!f.service.empty()) return f.service == service;
  auto it = mappings.find(service);
  const ServiceMapping* m = it == mappings.end() ? nullptr : &it->second;
  switch (f.type) {
    case FactKind::UNIT_FAILED:
      return unitMatches(f.unit, service, m);
    case FactKind::CONTAINER_FAILED:
    case FactKind::CONTAINER_OOM:
      return containerMatches(f, service, m);
    case FactKind::OOM_KILL:
      if (f.process == service) return true;
      if (m && std::find(m->processes.begin(), m->processes.end(), f.process) != m->processes.end())
        return true;
      return unitMatches(f.unit, service, m) || cgroupMatches(f.taskMemcg, service, m);
    case FactKind::ARTIFACT_OBSERVED:
      return containerMatches(f, service, m);
    default:
      return false;
  }
}

}  // namespace octolaunch::analysis
