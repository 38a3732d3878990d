#include "agent/parse/container_events.h"

namespace octolaunch::parse {

std::optional<ContainerEvent> parseContainerEvent(std::string_view, std::string*) { return std::nullopt; }
ContainerEventTracker::ContainerEventTracker(std::size_t maxTracked) : maxTracked_(maxTracked) {}
std::optional<ContainerFailure> ContainerEventTracker::feed(const ContainerEvent&) { return std::nullopt; }
std::optional<ContainerInspect> parseContainerInspect(std::string_view, std::string*) { return std::nullopt; }
void applyInspect(ContainerFailure&, const ContainerInspect&) {}
std::optional<std::vector<std::string>> parseImageRepoDigests(std::string_view, std::string*) {
  return std::nullopt;
}
void fillContainerFailure(schema::ContainerFailure::Builder, const ContainerFailure&) {}

}  // namespace octolaunch::parse
