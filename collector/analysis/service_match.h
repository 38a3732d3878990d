// Which events concern a service: the mapping from a service to the systemd units, containers and
// processes that run it (configured per service, passed in as data), with name-based defaults.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "collector/analysis/event_fact.h"

namespace octolaunch::analysis {

struct ServiceMapping {
  std::vector<std::string> units;  // exact unit names, e.g. "api.service", "api-worker@1.service"
  std::vector<std::string> containers;  // substrings of container names
  std::vector<std::string> images;      // substrings of image references
  std::vector<std::string> processes;   // exact process names (comm) of OOM victims
};

// Keyed by service name. A service without an entry uses the defaults only.
using ServiceMappings = std::map<std::string, ServiceMapping, std::less<>>;

// True when the event is about `service`: its service field says so, or (when the field is empty)
// its unit is `<service>.service` / `<service>@….service` / a configured unit, its container name
// or image contains the service name or a configured one, or an OOM victim is a configured process,
// is named like the service, or sits in the service's cgroup. An event whose service field names
// another service never concerns this one.
bool concernsService(const EventFact& fact, std::string_view service,
                     const ServiceMappings& mappings);

}  // namespace octolaunch::analysis
