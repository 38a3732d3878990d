// Which configured service ([service.NAME] units = [...], containers = [...]) an event belongs
// to, so that what the sources report is tagged with Event.service where it is made, not guessed
// by the collector.
//
// Tagged: unit.failed (its unit), container.failed / container.oom (the container's name or
// image), oom.kill / oom.invocation (the unit mapped from the cgroup, or the container named by
// the cgroup's container id, as the container source saw it). An event that already names a
// service keeps it (health.* events are tagged by their probe). An event of no configured service
// stays untagged.
// Thread: io_context thread only (the sources' thread), like EventOut.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/services/services_config.h"
#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::sources {

class ServiceMap final {
 public:
  ServiceMap() = default;
  explicit ServiceMap(const std::vector<services::ServiceConfig>& services);

  // The service that lists this unit ("api.service"; "api" in the config also matches it).
  std::string_view forUnit(std::string_view unit) const;
  // The service that lists this container name, or this image (with or without its tag).
  std::string_view forContainer(std::string_view name, std::string_view image = {}) const;
  // Remembers a container's name by id (the container source tells it from the engine's events)
  // so that an OOM kill named only by container id finds its service. Bounded.
  void noteContainer(std::string_view id, std::string_view name);
  // Sets event.service from the payload when it is empty and a configured service claims it.
  void tag(schema::Event::Builder event) const;

  bool empty() const { return units_.empty() && containers_.empty(); }

 private:
  std::unordered_map<std::string, std::string> units_;       // unit -> service
  std::unordered_map<std::string, std::string> containers_;  // name or image -> service
  std::unordered_map<std::string, std::string> names_;       // container id -> name
  std::deque<std::string> nameOrder_;
};

}  // namespace octolaunch::sources
