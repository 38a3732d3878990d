#include "collector/analysis/event_fact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "shared/event/event_kinds.h"

namespace octolaunch::analysis {

using schema::Event;

namespace {

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string exitText(const EventFact& f) {
  if (f.signal) return "was killed by signal " + std::to_string(*f.signal);
  if (f.exitCode) return "exited " + std::to_string(*f.exitCode);
  return "exited";
}

void readExhaustion(schema::Exhaustion::Reader x, EventFact& f, const char* what) {
  f.raised = x.getState() == schema::Pressure::State::RAISED;
  f.atStart = x.getAtStart();
  f.mount = text(x.getMount());
  f.usedPercent = x.getUsedPercent();
  f.summary = std::string(what) + (f.raised ? "" : " cleared") +
              (f.mount.empty() ? "" : " on " + f.mount) + ": " + fmt("%.0f%% used", f.usedPercent);
  if (x.getFree() > 0 && f.type == FactKind::DISK_FULL)
    f.summary += ", " + humanBytes(x.getFree()) + " free";
}

void readContainer(schema::ContainerFailure::Reader c, EventFact& f, const char* what) {
  f.containerId = text(c.getContainerId());
  f.containerName = text(c.getName());
  f.image = text(c.getImage());
  for (auto d : c.getImageDigests()) f.digests.push_back(text(d));
  if (c.getExitCode() >= 0) f.exitCode = c.getExitCode();
  f.error = text(c.getError());
  f.oomKilled = c.getOomKilled();
  f.atStart = c.getAtStart();
  f.summary = std::string("container ") +
              (f.containerName.empty() ? f.containerId : f.containerName) +
              (f.image.empty() ? "" : " (" + f.image + ")") + " " + what;
  if (f.exitCode) f.summary += ", exit " + std::to_string(*f.exitCode);
  if (!f.error.empty()) f.summary += ": " + f.error;
}

void readFingerprint(schema::Fingerprint::Reader fp, EventFact& f, const char* what) {
  for (auto e : fp.getEntries()) {
    f.entries.push_back({text(e.getName()), text(e.getKind()), text(e.getHmac())});
  }
  f.keyId = text(fp.getKeyId());
  f.summary =
      std::string(what) + " fingerprint of " + std::to_string(f.entries.size()) + " entries";
}

void readPayload(Event::Reader event, EventFact& f) {
  auto p = event.getPayload();
  switch (p.which()) {
    case Event::Payload::DEPLOY_START: {
      f.type = FactKind::DEPLOY_START;
      f.phase = text(p.getDeployStart().getPhase());
      f.summary = "deploy start of " + (f.release.empty() ? std::string("?") : f.release);
      return;
    }
    case Event::Payload::DEPLOY_FINISH: {
      f.type = FactKind::DEPLOY_FINISH;
      auto d = p.getDeployFinish();
      f.phase = text(d.getPhase());
      f.outcome = d.getOutcome() == schema::DeployMarker::Outcome::OK       ? Outcome::ok
                  : d.getOutcome() == schema::DeployMarker::Outcome::FAILED ? Outcome::failed
                                                                            : Outcome::unknown;
      f.summary = "deploy finish of " + (f.release.empty() ? std::string("?") : f.release) + ": " +
                  (f.outcome == Outcome::ok       ? "ok"
                   : f.outcome == Outcome::failed ? "failed"
                                                  : "outcome unknown");
      return;
    }
    case Event::Payload::HOOK_OUTPUT: {
      f.type = FactKind::HOOK_OUTPUT;
      auto h = p.getHookOutput();
      f.phase = text(h.getPhase());
      f.stderrLine = h.getStream() == schema::HookOutput::Stream::STDERR;
      f.summary = "[" + (f.phase.empty() ? std::string("hook") : f.phase) +
                  (f.stderrLine ? " stderr] " : " stdout] ") + text(h.getLine());
      return;
    }
    case Event::Payload::HOOK_BLOCK: {
      // The store hands out a block's lines one by one (hook_block.h), so the rules never see
      // one; read whole, a block is summed up by its first line, marked stderr when any line is.
      f.type = FactKind::HOOK_BLOCK;
      auto b = p.getHookBlock();
      f.phase = text(b.getPhase());
      for (auto line : b.getLines()) {
        f.stderrLine = f.stderrLine || line.getStream() == schema::HookOutput::Stream::STDERR;
      }
      f.summary = "[" + (f.phase.empty() ? std::string("hook") : f.phase) +
                  (f.stderrLine ? " stderr] " : " stdout] ") +
                  (b.getLines().size() > 0 ? text(b.getLines()[0].getText()) : std::string());
      return;
    }
    case Event::Payload::HOOK_EXIT: {
      f.type = FactKind::HOOK_EXIT;
      auto h = p.getHookExit();
      f.phase = text(h.getPhase());
      f.command = text(h.getCommand());
      if (h.isSignal()) {
        f.signal = h.getSignal();
      } else {
        f.exitCode = h.getExitCode();
      }
      f.durationMs = h.getDurationMs();
      f.childPid = h.getChildPid();
      f.cgroup = text(h.getCgroup());
      for (auto line : h.getTail()) f.tail.push_back(text(line));
      f.summary = "hook " + (f.phase.empty() ? std::string("") : f.phase + " ") + "`" + f.command +
                  "` " + exitText(f) +
                  fmt(" after %.1f s", static_cast<double>(f.durationMs) / 1000.0);
      if (!f.tail.empty() && (f.signal || (f.exitCode && *f.exitCode != 0))) {
        f.summary += ": " + informativeLine(f.tail, {});
      }
      return;
    }
    case Event::Payload::SPOOL_SHED: {
      f.type = FactKind::SPOOL_SHED;
      f.summary =
          "agent spool shed " + std::to_string(p.getSpoolShed().getCount()) + " low-value events";
      return;
    }
    case Event::Payload::OOM_KILL: {
      f.type = FactKind::OOM_KILL;
      auto o = p.getOomKill();
      f.process = text(o.getProcess());
      f.pid = o.getPid();
      f.rssKb = o.getAnonRssKb();
      f.constraint = text(o.getConstraint());
      f.taskMemcg = text(o.getTaskMemcg());
      f.memcg = text(o.getMemcg());
      f.unit = text(o.getUnit());
      f.containerId = text(o.getContainerId());
      f.summary = "OOM kill of " + oomVictim(f) + " (pid " + std::to_string(f.pid);
      if (f.rssKb > 0) f.summary += ", anon-rss " + humanBytes(f.rssKb * 1024);
      if (!f.constraint.empty()) f.summary += ", " + f.constraint;
      if (!f.unit.empty())
        f.summary += ", " + f.unit;
      else if (!f.taskMemcg.empty())
        f.summary += ", " + f.taskMemcg;
      f.summary += ")";
      return;
    }
    case Event::Payload::OOM_INVOCATION: {
      f.type = FactKind::OOM_INVOCATION;
      auto o = p.getOomInvocation();
      f.process = text(o.getTrigger());
      f.pid = o.getTriggerPid();
      f.constraint = text(o.getConstraint());
      f.taskMemcg = text(o.getMemcg());
      f.summary = "OOM killer invoked" + (f.process.empty() ? "" : " by " + f.process) +
                  ", no victim named" + (f.taskMemcg.empty() ? "" : " (" + f.taskMemcg + ")");
      return;
    }
    case Event::Payload::PRESSURE: {
      f.type = FactKind::PRESSURE;
      auto x = p.getPressure();
      f.raised = x.getState() == schema::Pressure::State::RAISED;
      f.avg10 = x.getSomeAvg10();
      f.fullAvg10 = x.getFullAvg10();
      f.raisedNs = x.getRaisedNs();
      f.peakSomeAvg10 = x.getPeakSomeAvg10();
      f.peakFullAvg10 = x.getPeakFullAvg10();
      f.atStart = x.getAtStart();
      const std::string resource = f.kind.substr(f.kind.find('.') + 1);  // "unknown" stays whole
      f.summary = resource + " pressure " + (f.raised ? "raised" : "cleared") +
                  fmt(": some avg10 %.1f%%", x.getSomeAvg10()) +
                  fmt(", full avg10 %.1f%%", x.getFullAvg10());
      return;
    }
    case Event::Payload::DISK_FULL:
      f.type = FactKind::DISK_FULL;
      readExhaustion(p.getDiskFull(), f, "disk full");
      return;
    case Event::Payload::INODE_EXHAUSTED:
      f.type = FactKind::INODE_EXHAUSTED;
      readExhaustion(p.getInodeExhausted(), f, "inodes exhausted");
      return;
    case Event::Payload::FD_EXHAUSTED:
      f.type = FactKind::FD_EXHAUSTED;
      readExhaustion(p.getFdExhausted(), f, "file handles exhausted");
      return;
    case Event::Payload::UNIT_FAILED: {
      f.type = FactKind::UNIT_FAILED;
      auto u = p.getUnitFailed();
      f.unit = text(u.getUnit());
      f.result = text(u.getResult());
      if (u.getExitStatus() >= 0) f.exitCode = u.getExitStatus();
      f.oomKilled = u.getOomKilled();
      f.atStart = u.getAtStart();
      f.summary = "unit " + f.unit + " failed (" + f.result + ")";
      if (f.exitCode) f.summary += ", exit status " + std::to_string(*f.exitCode);
      if (u.getSignal().size() > 0) f.summary += ", signal " + text(u.getSignal());
      if (u.getRestarts() > 0) f.summary += ", " + std::to_string(u.getRestarts()) + " restarts";
      return;
    }
    case Event::Payload::CONTAINER_FAILED:
      f.type = FactKind::CONTAINER_FAILED;
      readContainer(p.getContainerFailed(), f, "failed");
      return;
    case Event::Payload::CONTAINER_OOM:
      f.type = FactKind::CONTAINER_OOM;
      readContainer(p.getContainerOom(), f, "was OOM-killed");
      f.oomKilled = true;
      return;
    case Event::Payload::HEALTH_FAILED:
    case Event::Payload::HEALTH_RECOVERED: {
      bool failed = p.which() == Event::Payload::HEALTH_FAILED;
      f.type = failed ? FactKind::HEALTH_FAILED : FactKind::HEALTH_RECOVERED;
      auto h = failed ? p.getHealthFailed() : p.getHealthRecovered();
      f.probe = text(h.getProbe());
      f.status = text(h.getStatus());
      f.error = text(h.getError());
      f.summary = "health probe " + f.probe +
                  (h.getTarget().size() > 0 ? " (" + text(h.getTarget()) + ")" : "") +
                  (failed ? " failed" : " recovered");
      if (!f.status.empty()) f.summary += ": " + f.status;
      if (!f.error.empty()) f.summary += (f.status.empty() ? ": " : ", ") + f.error;
      return;
    }
    case Event::Payload::ARTIFACT_OBSERVED: {
      f.type = FactKind::ARTIFACT_OBSERVED;
      auto a = p.getArtifactObserved();
      if (a.getDigest().size() > 0) f.digests.push_back(text(a.getDigest()));
      for (auto d : a.getImageDigests()) f.digests.push_back(text(d));
      f.containerName = text(a.getContainer());
      std::string what = a.getPath().size() > 0 ? text(a.getPath()) : f.containerName;
      f.summary =
          "artifact " + what + " is " + (f.digests.empty() ? std::string("?") : f.digests.front());
      return;
    }
    case Event::Payload::CONFIG_FINGERPRINT:
      f.type = FactKind::CONFIG_FINGERPRINT;
      readFingerprint(p.getConfigFingerprint(), f, "config");
      return;
    case Event::Payload::DEPENDENCY_FINGERPRINT:
      f.type = FactKind::DEPENDENCY_FINGERPRINT;
      readFingerprint(p.getDependencyFingerprint(), f, "dependency");
      return;
  }
}

}  // namespace

EventFact factFromEvent(Event::Reader event) {
  EventFact f;
  fillFact(f, event);
  return f;
}

void fillFact(EventFact& f, Event::Reader event) {
  f.ref = {text(event.getAgentId()), event.getEpoch(), event.getSeq()};
  f.timeNs = event.getTimeNs();
  f.host = text(event.getHost());
  f.service = text(event.getService());
  f.release = text(event.getRelease());
  f.kind = kindName(event);
  readPayload(event, f);
}

bool isHostContext(const EventFact& f) {
  const EventKind* kind = findKind(f.type);
  return kind && kind->linking == Linking::hostContext;
}

bool isFailureSignal(const EventFact& f) {
  const EventKind* kind = findKind(f.type);
  switch (kind ? kind->failure : FailureSignal::never) {
    case FailureSignal::never:
      return false;
    case FailureSignal::always:
      return true;
    case FailureSignal::whenPayloadSays:
      return f.signal.has_value() || (f.exitCode && *f.exitCode != 0) ||
             f.outcome == Outcome::failed;
  }
  return false;
}

int errorWeight(std::string_view line) {
  // Lines that name what ran out or who refused beat generic error words; lines that only
  // summarise an earlier error ("Exiting with failure status due to previous errors") come last.
  static constexpr std::array kStrong = {
      "no space", "out of memory",        "killed", "too many open", "denied",
      "refused",  "read-only file system"};
  static constexpr std::array kError = {
      "error", "fatal",     "exception",          "cannot",    "can't",    "could not", "unable to",
      "panic", "traceback", "segmentation fault", "timed out", "not found"};
  static constexpr std::array kSummary = {"exiting with failure",
                                          "previous error",
                                          "exit status",
                                          "exited with",
                                          "non-zero",
                                          "failed",
                                          "failure",
                                          "abort"};
  std::string lower(line);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto has = [&](const auto& words) {
    return std::any_of(words.begin(), words.end(),
                       [&](const char* w) { return lower.find(w) != std::string::npos; });
  };
  if (has(kStrong)) return 3;
  if (lower.find("exiting with failure") != std::string::npos ||
      lower.find("previous error") != std::string::npos)
    return 1;
  if (has(kError)) return 2;
  return has(kSummary) ? 1 : 0;
}

std::string informativeLine(std::span<const std::string> lines,
                            std::span<const std::string> stderrLines) {
  const std::string* best = nullptr;
  int bestRank = -1;
  auto consider = [&](const std::string& line, bool err) {
    int rank = errorWeight(line) * 2 + (err ? 1 : 0);
    if (rank >= bestRank) {  // the last of the best
      bestRank = rank;
      best = &line;
    }
  };
  for (const auto& l : stderrLines) consider(l, true);
  for (const auto& l : lines) {
    bool err = std::find(stderrLines.begin(), stderrLines.end(), l) != stderrLines.end();
    consider(l, err);
  }
  if (best && bestRank >= 2) return *best;  // an error line (a weight of at least 1)
  if (!lines.empty()) return lines.back();
  return stderrLines.empty() ? std::string() : stderrLines.back();
}

std::string oomVictim(const EventFact& f) {
  if (!f.process.empty()) return f.process;
  if (!f.unit.empty()) return f.unit;
  if (!f.taskMemcg.empty()) return f.taskMemcg;
  if (!f.memcg.empty()) return f.memcg;
  return "pid " + std::to_string(f.pid);
}

std::string humanBytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return fmt(u == 0 || v >= 10 ? "%.0f " : "%.1f ", v) + units[u];
}

}  // namespace octolaunch::analysis
