#include "agent/parse/container_events.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/parse/json_object.h"
#include "agent/parse/text_util.h"
#include "shared/util/clock.h"

namespace octolaunch::parse {

namespace {

using nlohmann::json;

// A string member, or "" (numbers are printed; other types ignored).
std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return sanitizeUtf8(it->get_ref<const std::string&>());
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  return {};
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::optional<std::int64_t> integer(const json& obj, const char* key) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_number_unsigned()) {
    auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v->is_string()) {
    auto s = v->get<std::string>();
    if (auto i = parseI32(s)) return *i;
  }
  return std::nullopt;
}

std::optional<std::int32_t> exitCodeOf(std::optional<std::int64_t> v) {
  if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
  return static_cast<std::int32_t>(*v);
}

}  // namespace

std::optional<ContainerEvent> parseContainerEvent(std::string_view text, std::string* error) {
  auto doc = parseJsonObject(text, error);
  if (!doc) return std::nullopt;
  const json& d = *doc;
  ContainerEvent e;
  e.type = str(d, "Type");
  e.action = str(d, "Action");
  if (e.action.empty()) e.action = str(d, "status");
  if (e.action.empty()) e.action = str(d, "Status");  // podman events --format json
  const json* actor = member(d, "Actor");
  const json* attrs = actor ? member(*actor, "Attributes") : member(d, "Attributes");
  e.id = actor ? str(*actor, "ID") : std::string();
  if (e.id.empty()) e.id = str(d, "id");
  if (e.id.empty()) e.id = str(d, "ID");
  if (attrs) {
    e.name = str(*attrs, "name");
    e.image = str(*attrs, "image");
    e.exitCode = exitCodeOf(integer(*attrs, "exitCode"));
  }
  if (e.name.empty()) e.name = str(d, "Name");
  if (e.image.empty()) e.image = str(d, "from");
  if (e.image.empty()) e.image = str(d, "Image");
  if (!e.exitCode) e.exitCode = exitCodeOf(integer(d, "ContainerExitCode"));
  if (!e.exitCode && attrs && (e.action == "die" || e.action == "died"))
    e.exitCode = exitCodeOf(integer(*attrs, "containerExitCode"));
  if (auto ns = integer(d, "timeNano"); ns && *ns > 0) {
    e.timeNs = *ns;
  } else if (auto s = integer(d, "time"); s && *s > 0 && *s < INT64_MAX / 1'000'000'000) {
    e.timeNs = *s * 1'000'000'000;
  } else if (auto t = parseTimeNs(str(d, "Time"))) {
    e.timeNs = *t;
  }
  if (e.type.empty() && !e.id.empty() && !e.action.empty()) e.type = "container";  // Docker < 1.22
  if (e.type.empty() && e.action.empty()) {
    if (error) *error = "no Type/Action/status: not a container event";
    return std::nullopt;
  }
  return e;
}

ContainerEventTracker::ContainerEventTracker(std::size_t maxTracked) : maxTracked_(maxTracked) {}

std::optional<ContainerFailure> ContainerEventTracker::feed(const ContainerEvent& e) {
  if (e.type != "container" || e.id.empty()) return std::nullopt;
  auto failure = [&](ContainerFailure::Kind kind, std::string action) {
    ContainerFailure f;
    f.kind = kind;
    f.containerId = e.id;
    f.name = e.name;
    f.image = e.image;
    f.exitCode = e.exitCode.value_or(-1);
    f.action = std::move(action);
    f.timeNs = e.timeNs;
    return f;
  };
  const std::string& a = e.action;
  if (a == "create") {
    if (started_.find(e.id) == started_.end()) {
      order_.push_back(e.id);
      if (order_.size() > maxTracked_) {
        started_.erase(order_.front());
        order_.erase(order_.begin());
      }
    }
    started_[e.id] = false;
    return std::nullopt;
  }
  if (a == "start" || a == "init" || a == "restart") {
    if (auto it = started_.find(e.id); it != started_.end()) it->second = true;
    return std::nullopt;
  }
  if (a == "oom") {
    oomSeen_.insert(e.id);
    ContainerFailure f = failure(ContainerFailure::Kind::oom, a);
    f.oomKilled = true;
    return f;
  }
  if (a == "die" || a == "died") {
    if (auto it = started_.find(e.id); it != started_.end()) it->second = true;
    if (!e.exitCode || *e.exitCode == 0) return std::nullopt;
    ContainerFailure f = failure(ContainerFailure::Kind::failed, a);
    f.oomKilled = oomSeen_.erase(e.id) > 0;  // an exit code of 137 alone is not an OOM
    return f;
  }
  if (a == "cleanup" || a == "destroy" || a == "remove") {
    auto it = started_.find(e.id);
    bool neverStarted = it != started_.end() && !it->second;
    if (it != started_.end()) {
      started_.erase(it);
      order_.erase(std::remove(order_.begin(), order_.end(), e.id), order_.end());
    }
    oomSeen_.erase(e.id);
    // podman cleans up a container whose start failed without ever reporting init/start; Docker's
    // destroy of a never-started container may just be `docker create` + `docker rm`, so only
    // podman's cleanup counts as a start failure.
    if (neverStarted && a == "cleanup")
      return failure(ContainerFailure::Kind::failed, "start-failed");
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ContainerInspect> parseContainerInspect(std::string_view text, std::string* error) {
  auto doc = parseJsonObject(text, error);
  if (!doc) return std::nullopt;
  const json& d = *doc;
  ContainerInspect c;
  c.id = str(d, "Id");
  c.name = str(d, "Name");
  if (!c.name.empty() && c.name.front() == '/') c.name.erase(0, 1);
  if (const json* config = member(d, "Config")) c.image = str(*config, "Image");
  c.imageId = str(d, "Image");
  if (c.image.empty()) c.image = str(d, "ImageName");
  if (const json* state = member(d, "State"); state && state->is_object()) {
    c.status = str(*state, "Status");
    c.exitCode = exitCodeOf(integer(*state, "ExitCode")).value_or(-1);
    c.error = str(*state, "Error");
    if (const json* oom = member(*state, "OOMKilled"); oom && oom->is_boolean())
      c.oomKilled = oom->get<bool>();
    if (const json* running = member(*state, "Running"); running && running->is_boolean()) {
      c.running = running->get<bool>();
    }
  }
  c.ociRuntime = str(d, "OCIRuntime");
  c.conmonPidFile = str(d, "ConmonPidFile");
  if (c.id.empty() && c.status.empty()) {
    if (error) *error = "no Id or State: not a container inspect body";
    return std::nullopt;
  }
  return c;
}

void applyInspect(ContainerFailure& f, const ContainerInspect& c) {
  if (f.containerId.empty()) f.containerId = c.id;
  if (f.name.empty()) f.name = c.name;
  if (f.image.empty()) f.image = c.image;
  // A running container's ExitCode is the previous run's; a never-started one's 0 means nothing.
  if (f.exitCode < 0 && !c.running && c.exitCode > 0) f.exitCode = c.exitCode;
  if (f.error.empty()) f.error = c.error;
  f.oomKilled = f.oomKilled || c.oomKilled;
}

std::optional<std::vector<ContainerSummary>> parseContainerList(std::string_view text,
                                                                std::string* error) {
  auto doc = parseJsonArray(text, error);
  if (!doc) return std::nullopt;
  std::vector<ContainerSummary> out;
  for (const auto& entry : *doc) {
    ContainerSummary c;
    c.id = str(entry, "Id");
    if (c.id.empty()) continue;
    if (const json* names = member(entry, "Names"); names && names->is_array() && !names->empty())
      c.name =
          (*names)[0].is_string() ? sanitizeUtf8((*names)[0].get_ref<const std::string&>()) : "";
    if (!c.name.empty() && c.name.front() == '/') c.name.erase(0, 1);
    c.image = str(entry, "Image");
    c.state = str(entry, "State");
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<std::string> ociLogError(std::string_view log, std::string_view runtime) {
  std::optional<std::string> last;
  for (auto line : splitLines(log)) {
    auto doc = parseJsonObject(line, nullptr);
    if (!doc || str(*doc, "level") != "error") continue;
    const std::string msg = str(*doc, "msg");
    if (msg.empty()) continue;
    last = runtime.empty() ? msg : std::string(runtime) + ": " + msg;
  }
  return last;
}

std::optional<std::vector<std::string>> parseImageRepoDigests(std::string_view text,
                                                              std::string* error) {
  auto doc = parseJsonObject(text, error);
  if (!doc) return std::nullopt;
  std::vector<std::string> out;
  if (const json* digests = member(*doc, "RepoDigests"); digests && digests->is_array()) {
    for (const auto& d : *digests) {
      if (d.is_string()) out.push_back(sanitizeUtf8(d.get_ref<const std::string&>()));
    }
  }
  return out;
}

void fillContainerFailure(schema::ContainerFailure::Builder b, const ContainerFailure& f) {
  b.setContainerId(f.containerId);
  b.setName(f.name);
  b.setImage(f.image);
  auto digests = b.initImageDigests(static_cast<unsigned>(f.imageDigests.size()));
  for (unsigned i = 0; i < f.imageDigests.size(); ++i) digests.set(i, f.imageDigests[i]);
  b.setExitCode(f.exitCode);
  b.setError(f.error);
  b.setOomKilled(f.oomKilled);
  b.setAction(f.action);
  b.setAtStart(f.atStart);
}

}  // namespace octolaunch::parse
