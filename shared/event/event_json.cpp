#include "shared/event/event_json.h"

#include <charconv>
#include <cstdio>

#include "shared/util/clock.h"

namespace octolaunch {

using nlohmann::json;
using schema::Event;

namespace {

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

json textList(capnp::List<capnp::Text>::Reader list) {
  json out = json::array();
  for (auto t : list) out.push_back(text(t));
  return out;
}

const char* stateName(schema::Pressure::State s) {
  return s == schema::Pressure::State::RAISED ? "raised" : "cleared";
}

const char* resourceName(schema::Pressure::Resource r) {
  switch (r) {
    case schema::Pressure::Resource::MEMORY:
      return "memory";
    case schema::Pressure::Resource::CPU:
      return "cpu";
    case schema::Pressure::Resource::IO:
      return "io";
  }
  return "memory";
}

const char* outcomeName(schema::DeployMarker::Outcome o) {
  switch (o) {
    case schema::DeployMarker::Outcome::OK:
      return "ok";
    case schema::DeployMarker::Outcome::FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

json deployJson(schema::DeployMarker::Reader d, bool finish) {
  json j = json::object();
  if (finish) j["outcome"] = outcomeName(d.getOutcome());
  if (d.hasPhase() && d.getPhase().size() > 0) j["phase"] = text(d.getPhase());
  if (d.getUser().size() > 0) j["user"] = text(d.getUser());
  if (d.getUid() >= 0) j["uid"] = d.getUid();
  return j;
}

json exhaustionJson(schema::Exhaustion::Reader x) {
  json j = {{"state", stateName(x.getState())},
            {"used_percent", x.getUsedPercent()},
            {"free", x.getFree()},
            {"total", x.getTotal()},
            {"threshold", x.getThreshold()}};
  if (x.getMount().size() > 0) j["mount"] = text(x.getMount());
  if (x.getFsType().size() > 0) j["fs_type"] = text(x.getFsType());
  if (x.getAtStart()) j["at_start"] = true;
  return j;
}

json containerJson(schema::ContainerFailure::Reader c) {
  json j = {{"container_id", text(c.getContainerId())},
            {"name", text(c.getName())},
            {"image", text(c.getImage())},
            {"image_digests", textList(c.getImageDigests())},
            {"oom_killed", c.getOomKilled()}};
  if (c.getExitCode() >= 0) j["exit_code"] = c.getExitCode();
  if (c.getError().size() > 0) j["error"] = text(c.getError());
  if (c.getAction().size() > 0) j["action"] = text(c.getAction());
  if (c.getAtStart()) j["at_start"] = true;
  return j;
}

json healthJson(schema::Health::Reader h) {
  return {{"probe", text(h.getProbe())},
          {"target", text(h.getTarget())},
          {"status", text(h.getStatus())},
          {"error", text(h.getError())},
          {"latency_ms", h.getLatencyMs()}};
}

json fingerprintJson(schema::Fingerprint::Reader f) {
  json entries = json::array();
  for (auto e : f.getEntries()) {
    entries.push_back(
        {{"name", text(e.getName())}, {"kind", text(e.getKind())}, {"hmac", text(e.getHmac())}});
  }
  json j = {{"entries", entries}};
  if (f.getKeyId().size() > 0) j["key_id"] = text(f.getKeyId());
  return j;
}

json oomJson(schema::OomKill::Reader o) {
  json j = {{"pid", o.getPid()},
            {"process", text(o.getProcess())},
            {"constraint", text(o.getConstraint())},
            {"memcg", text(o.getMemcg())},
            {"task_memcg", text(o.getTaskMemcg())},
            {"anon_rss_kb", o.getAnonRssKb()},
            {"total_vm_kb", o.getTotalVmKb()},
            {"killer", text(o.getKiller())}};
  if (o.getUid() >= 0) j["uid"] = o.getUid();
  if (o.getTrigger().size() > 0) j["trigger"] = text(o.getTrigger());
  if (o.getTriggerPid() > 0) j["trigger_pid"] = o.getTriggerPid();
  if (o.getUnit().size() > 0) j["unit"] = text(o.getUnit());
  if (o.getContainerId().size() > 0) j["container_id"] = text(o.getContainerId());
  if (o.getFileRssKb() > 0) j["file_rss_kb"] = o.getFileRssKb();
  if (o.getShmemRssKb() > 0) j["shmem_rss_kb"] = o.getShmemRssKb();
  if (o.getOomScoreAdj() != 0) j["oom_score_adj"] = o.getOomScoreAdj();
  if (o.getSource().size() > 0) j["source"] = text(o.getSource());
  return j;
}

}  // namespace

json payloadJson(Event::Reader event) {
  auto p = event.getPayload();
  switch (p.which()) {
    case Event::Payload::DEPLOY_START:
      return deployJson(p.getDeployStart(), false);
    case Event::Payload::DEPLOY_FINISH:
      return deployJson(p.getDeployFinish(), true);
    case Event::Payload::HOOK_OUTPUT: {
      auto h = p.getHookOutput();
      json j = {
          {"stream", h.getStream() == schema::HookOutput::Stream::STDOUT ? "stdout" : "stderr"},
          {"line_no", h.getLineNo()},
          {"line", text(h.getLine())}};
      if (h.getPhase().size() > 0) j["phase"] = text(h.getPhase());
      if (h.getPart() > 0) j["part"] = h.getPart();
      return j;
    }
    case Event::Payload::HOOK_BLOCK: {  // as the agent holds it; the collector prints lines
      auto b = p.getHookBlock();
      json lines = json::array();
      for (auto line : b.getLines()) {
        lines.push_back(
            {{"stream",
              line.getStream() == schema::HookOutput::Stream::STDOUT ? "stdout" : "stderr"},
             {"line_no", line.getLineNo()},
             {"line", text(line.getText())},
             {"after_ns", line.getAfterNs()}});
      }
      json j = {{"lines", std::move(lines)}};
      if (b.getPhase().size() > 0) j["phase"] = text(b.getPhase());
      return j;
    }
    case Event::Payload::HOOK_EXIT: {
      auto h = p.getHookExit();
      json j = {{"phase", text(h.getPhase())},        {"command", text(h.getCommand())},
                {"duration_ms", h.getDurationMs()},   {"stdout_lines", h.getStdoutLines()},
                {"stderr_lines", h.getStderrLines()}, {"tail", textList(h.getTail())}};
      if (h.isSignal()) {
        j["signal"] = h.getSignal();
      } else {
        j["exit_code"] = h.getExitCode();
      }
      if (h.getChildPid() > 0) j["child_pid"] = h.getChildPid();
      if (h.getCgroup().size() > 0) j["cgroup"] = text(h.getCgroup());
      if (h.getUser().size() > 0) j["user"] = text(h.getUser());
      if (h.getUid() >= 0) j["uid"] = h.getUid();
      return j;
    }
    case Event::Payload::SPOOL_SHED: {
      auto s = p.getSpoolShed();
      return {{"count", s.getCount()}, {"first_ns", s.getFirstNs()}, {"last_ns", s.getLastNs()}};
    }
    case Event::Payload::OOM_KILL:
      return oomJson(p.getOomKill());
    case Event::Payload::OOM_INVOCATION:
      return oomJson(p.getOomInvocation());
    case Event::Payload::PRESSURE: {
      auto x = p.getPressure();
      json j = {{"resource", resourceName(x.getResource())},
                {"state", stateName(x.getState())},
                {"some_avg10", x.getSomeAvg10()},
                {"full_avg10", x.getFullAvg10()},
                {"threshold", x.getThreshold()}};
      if (x.getStallUs() > 0) {
        j["stall_us"] = x.getStallUs();
        j["window_us"] = x.getWindowUs();
      }
      if (x.getRaisedNs() != 0) {
        j["raised_ns"] = x.getRaisedNs();
        j["peak_some_avg10"] = x.getPeakSomeAvg10();
        j["peak_full_avg10"] = x.getPeakFullAvg10();
      }
      if (x.getAtStart()) j["at_start"] = true;
      return j;
    }
    case Event::Payload::DISK_FULL:
      return exhaustionJson(p.getDiskFull());
    case Event::Payload::INODE_EXHAUSTED:
      return exhaustionJson(p.getInodeExhausted());
    case Event::Payload::FD_EXHAUSTED:
      return exhaustionJson(p.getFdExhausted());
    case Event::Payload::UNIT_FAILED: {
      auto u = p.getUnitFailed();
      json j = {{"unit", text(u.getUnit())},      {"result", text(u.getResult())},
                {"restarts", u.getRestarts()},    {"invocation_id", text(u.getInvocationId())},
                {"oom_killed", u.getOomKilled()}, {"last_lines", textList(u.getLastLines())}};
      if (u.getExitStatus() >= 0) j["exit_status"] = u.getExitStatus();
      if (u.getSignal().size() > 0) j["signal"] = text(u.getSignal());
      if (u.getPid() > 0) j["pid"] = u.getPid();
      if (u.getMessage().size() > 0) j["message"] = text(u.getMessage());
      if (u.getAtStart()) j["at_start"] = true;
      return j;
    }
    case Event::Payload::CONTAINER_FAILED:
      return containerJson(p.getContainerFailed());
    case Event::Payload::CONTAINER_OOM:
      return containerJson(p.getContainerOom());
    case Event::Payload::HEALTH_FAILED:
      return healthJson(p.getHealthFailed());
    case Event::Payload::HEALTH_RECOVERED:
      return healthJson(p.getHealthRecovered());
    case Event::Payload::ARTIFACT_OBSERVED: {
      auto a = p.getArtifactObserved();
      json j = {{"digest", text(a.getDigest())}, {"image_digests", textList(a.getImageDigests())}};
      if (a.getPath().size() > 0) j["path"] = text(a.getPath());
      if (a.getContainer().size() > 0) j["container"] = text(a.getContainer());
      return j;
    }
    case Event::Payload::CONFIG_FINGERPRINT:
      return fingerprintJson(p.getConfigFingerprint());
    case Event::Payload::DEPENDENCY_FINGERPRINT:
      return fingerprintJson(p.getDependencyFingerprint());
  }
  return nullptr;
}

std::string epochHex(std::uint64_t epoch) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(epoch));
  return buf;
}

std::optional<std::uint64_t> parseEpochHex(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 16) return std::nullopt;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

json eventJson(Event::Reader event) {
  return {{"agent_id", text(event.getAgentId())},
          {"epoch", epochHex(event.getEpoch())},
          {"seq", event.getSeq()},
          {"host", text(event.getHost())},
          {"time", formatRfc3339Ns(event.getTimeNs())},
          {"time_ns", event.getTimeNs()},
          {"received_ns", event.getReceivedNs()},
          {"kind", kindName(event)},
          {"service", text(event.getService())},
          {"release", text(event.getRelease())},
          {"data", payloadJson(event)}};
}

}  // namespace octolaunch
