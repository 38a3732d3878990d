#include "collector/analysis/timeline.h"

#include <map>

#include "shared/event/event_json.h"
#include "shared/util/clock.h"
#include "shared/util/json_text.h"

namespace octolaunch::analysis {

namespace {

namespace jt = json_text;

// One host's part of the timeline, its events already written as JSON text.
struct HostPart {
  std::string state = "context";
  std::string reason;
  nlohmann::json windows = nlohmann::json::array();
  std::string events;
  std::size_t count = 0;
  std::size_t omitted = 0;
};

void appendDump(std::string& out, const nlohmann::json& value) {
  out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void appendEvent(std::string& out, const LinkedFact& l) {
  const EventFact& f = l.fact;
  out += "{\"time\":";
  jt::appendString(out, formatRfc3339Ns(f.timeNs));
  out += ",\"time_ns\":";
  jt::appendInt(out, f.timeNs);
  out += ",\"kind\":";
  jt::appendString(out, f.kind);
  out += ",\"agent_id\":";
  jt::appendString(out, f.ref.agentId);
  out += ",\"epoch\":";
  jt::appendString(out, epochHex(f.ref.epoch));
  out += ",\"seq\":";
  jt::appendUint(out, f.ref.seq);
  out += ",\"summary\":";
  jt::appendString(out, f.summary);
  out += ",\"link\":";
  jt::appendString(out, linkKindName(l.how));
  if (l.present) out += ",\"open_at_start\":true";
  // What the UI colours a mark by, beyond the kind.
  if (f.kind == "hook.exit") {
    if (f.exitCode) {
      out += ",\"exit_code\":";
      jt::appendInt(out, *f.exitCode);
    }
    if (f.signal) {
      out += ",\"signal\":";
      jt::appendInt(out, *f.signal);
    }
  } else if (f.kind == "deploy.finish") {
    out += ",\"outcome\":";
    jt::appendString(out, f.outcome == Outcome::ok       ? "ok"
                          : f.outcome == Outcome::failed ? "failed"
                                                         : "unknown");
  } else if (f.kind.starts_with("pressure.") || f.kind == "disk.full" ||
             f.kind == "inode.exhausted" || f.kind == "fd.exhausted") {
    out += f.raised ? ",\"raised\":true" : ",\"raised\":false";
  }
  if (!f.tail.empty()) {
    out += ",\"output_tail\":[";
    for (std::size_t i = 0; i < f.tail.size(); ++i) {
      if (i) out += ',';
      jt::appendString(out, f.tail[i]);
    }
    out += ']';
  }
  out += '}';
}

}  // namespace

std::string timelineText(const Release& release, std::span<const DeployWindow> windows,
                         std::span<const LinkedFact> linked, const ReleaseState& state,
                         const TimelineOptions& options) {
  std::map<std::string, HostPart> hosts;
  for (const auto& h : state.hosts) {
    HostPart& part = hosts[h.host];
    part.state = hostStateName(h.state);
    part.reason = h.reason;
  }
  for (const auto& w : windows) hosts[w.host].windows.push_back(windowJson(w));
  for (const auto& l : linked) {  // already in time order
    HostPart& part = hosts[l.fact.host];
    if (options.maxEventsPerHost && part.count >= options.maxEventsPerHost) {
      ++part.omitted;
      continue;
    }
    if (part.count++) part.events += ',';
    appendEvent(part.events, l);
  }
  std::string out;
  std::size_t size = 256;
  for (const auto& [name, part] : hosts) size += part.events.size() + 256;
  out.reserve(size);
  out += "{\"release\":";
  jt::appendString(out, release.id);
  out += ",\"service\":";
  jt::appendString(out, release.service);
  out += ",\"status\":";
  jt::appendString(out, state.status);
  out += ",\"stages\":";
  appendDump(out, stageStatesJson(stageStates(release)));
  out += ",\"events_total\":";
  jt::appendUint(out, linked.size());
  out += ",\"hosts\":[";
  bool first = true;
  for (const auto& [name, part] : hosts) {
    if (!first) out += ',';
    first = false;
    out += "{\"host\":";
    jt::appendString(out, name);
    out += ",\"state\":";
    jt::appendString(out, part.state);
    out += ",\"reason\":";
    jt::appendString(out, part.reason);
    out += ",\"windows\":";
    appendDump(out, part.windows);
    out += ",\"events\":[";
    out += part.events;
    out += "],\"events_omitted\":";
    jt::appendUint(out, part.omitted);
    out += '}';
  }
  out += "]}";
  return out;
}

nlohmann::json timelineJson(const Release& release, std::span<const DeployWindow> windows,
                            std::span<const LinkedFact> linked, const ReleaseState& state,
                            const TimelineOptions& options) {
  return nlohmann::json::parse(timelineText(release, windows, linked, state, options));
}

}  // namespace octolaunch::analysis
