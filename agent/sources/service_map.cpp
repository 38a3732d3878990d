#include "agent/sources/service_map.h"

namespace octolaunch::sources {

namespace {

constexpr std::size_t kNamesKept = 4096;

std::string_view find(const std::unordered_map<std::string, std::string>& map,
                      std::string_view key) {
  if (key.empty()) return {};
  auto it = map.find(std::string(key));
  return it == map.end() ? std::string_view() : std::string_view(it->second);
}

// "registry/api:1.4" -> "registry/api"; "api@sha256:..." -> "api"; a port colon is kept.
std::string_view withoutTag(std::string_view image) {
  if (auto at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  const auto colon = image.rfind(':');
  const auto slash = image.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    image = image.substr(0, colon);
  return image;
}

}  // namespace

ServiceMap::ServiceMap(const std::vector<services::ServiceConfig>& services) {
  for (const auto& service : services) {
    for (const auto& unit : service.units) {
      units_.try_emplace(unit, service.name);
      if (unit.find('.') == std::string::npos) units_.try_emplace(unit + ".service", service.name);
    }
    for (const auto& container : service.containers)
      containers_.try_emplace(container, service.name);
  }
}

std::string_view ServiceMap::forUnit(std::string_view unit) const { return find(units_, unit); }

std::string_view ServiceMap::forContainer(std::string_view name, std::string_view image) const {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  for (std::string_view key : {name, image, withoutTag(image)}) {
    if (auto service = find(containers_, key); !service.empty()) return service;
  }
  return {};
}

void ServiceMap::noteContainer(std::string_view id, std::string_view name) {
  if (id.empty() || name.empty() || containers_.empty()) return;
  auto [it, inserted] = names_.insert_or_assign(std::string(id), std::string(name));
  if (!inserted) return;
  nameOrder_.emplace_back(id);
  if (nameOrder_.size() > kNamesKept) {
    names_.erase(nameOrder_.front());
    nameOrder_.pop_front();
  }
}

void ServiceMap::tag(schema::Event::Builder event) const {
  if (event.hasService() && event.getService().size() > 0) return;
  auto payload = event.getPayload().asReader();
  std::string_view service;
  auto fromContainer = [&](schema::ContainerFailure::Reader c) {
    return forContainer(c.getName().cStr(), c.getImage().cStr());
  };
  auto fromOom = [&](schema::OomKill::Reader o) {
    std::string_view s = forUnit(o.getUnit().cStr());
    if (s.empty()) s = forContainer(find(names_, o.getContainerId().cStr()));
    return s;
  };
  switch (payload.which()) {
    case schema::Event::Payload::UNIT_FAILED:
      service = forUnit(payload.getUnitFailed().getUnit().cStr());
      break;
    case schema::Event::Payload::CONTAINER_FAILED:
      service = fromContainer(payload.getContainerFailed());
      break;
    case schema::Event::Payload::CONTAINER_OOM:
      service = fromContainer(payload.getContainerOom());
      break;
    case schema::Event::Payload::OOM_KILL:
      service = fromOom(payload.getOomKill());
      break;
    case schema::Event::Payload::OOM_INVOCATION:
      service = fromOom(payload.getOomInvocation());
      break;
    default:
      break;
  }
  if (!service.empty()) event.setService(std::string(service));
}

}  // namespace octolaunch::sources
