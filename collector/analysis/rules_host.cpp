// Rules for what the host reports about the service and its resources: resource-exhaustion and
// orchestration.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "collector/analysis/cause_rules.h"

namespace octolaunch::analysis {

namespace {

constexpr std::size_t kEvidencePerHost = 3;

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", v);
  return buf;
}

std::string secondsText(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f s", static_cast<double>(ns) / 1e9);
  return buf;
}

bool isOomOfService(const LinkedFact& l) {
  const EventFact& f = l.fact;
  if (l.how == LinkKind::context) return false;
  return f.type == FactKind::OOM_KILL || f.type == FactKind::CONTAINER_OOM ||
         (f.type == FactKind::UNIT_FAILED && (f.oomKilled || f.result == "oom-kill")) ||
         (f.type == FactKind::CONTAINER_FAILED && f.oomKilled);
}

// Which resource an event exhausts; empty when it is not a resource event (pressure is grouped
// into episodes separately).
std::string resourceKey(const LinkedFact& l) {
  const EventFact& f = l.fact;
  if (isOomOfService(l)) return "oom";
  if (f.type == FactKind::OOM_KILL) return "oom-other:" + oomVictim(f);
  if (f.type == FactKind::OOM_INVOCATION) return "oom-invocation";
  if (!f.raised) return "";
  switch (f.type) {
    case FactKind::DISK_FULL:
      return "disk:" + f.mount;
    case FactKind::INODE_EXHAUSTED:
      return "inode:" + f.mount;
    case FactKind::FD_EXHAUSTED:
      return "fd";
    default:
      return "";
  }
}

// True when a condition that began at `began` on a failed host can explain its failure: it began
// no later than the host's first failure (same host: one clock, compared directly).
bool causalOnHost(const CauseInput& in, const std::string& host, std::int64_t began) {
  if (!hostFailed(in, host)) return false;
  const EventFact* failure = firstFailure(in, host);
  return failure == nullptr || began <= failure->timeNs;
}

// "not a cause: began 3 s after the first failure on web-1", or empty when it did not.
std::string afterFailure(const CauseInput& in, const std::string& host, std::int64_t began) {
  const EventFact* failure = firstFailure(in, host);
  if (!failure || began <= failure->timeNs) return "";
  return "not a cause: began " + relativeTime(began, failure->timeNs) + " the first failure on " +
         host;
}

std::string resourceTitle(const std::string& key, const EventFact& worst,
                          const std::vector<std::string>& hosts, int total,
                          const std::string& when) {
  std::string where = " on " + hostsPhrase(hosts, total) + " " + when;
  if (key == "oom") {
    std::string what =
        worst.type == FactKind::UNIT_FAILED ? "unit " + worst.unit + " was OOM-killed"
        : worst.type == FactKind::OOM_KILL
            ? "OOM kill of " + oomVictim(worst) +
                  (worst.rssKb ? " (anon-rss " + humanBytes(worst.rssKb * 1024) +
                                     (worst.constraint.empty() ? "" : ", " + worst.constraint) + ")"
                               : "")
            : "container " + worst.containerName + " was OOM-killed";
    return what + where;
  }
  if (key.starts_with("oom-other:"))
    return "OOM kill of another process, " + oomVictim(worst) + where;
  if (key == "oom-invocation")
    return "OOM killer invoked without a victim named" +
           (worst.taskMemcg.empty() ? "" : " (" + worst.taskMemcg + ")") + where;
  if (key.starts_with("disk:"))
    return "disk full on " + worst.mount + " (" + percent(worst.usedPercent) + ")" + where;
  if (key.starts_with("inode:"))
    return "inodes exhausted on " + worst.mount + " (" + percent(worst.usedPercent) + ")" + where;
  return "file handles exhausted (" + percent(worst.usedPercent) + ")" + where;
}

double resourceSpecificity(const std::string& key) {
  if (key.starts_with("disk:") || key.starts_with("inode:") || key == "fd") return 0.85;
  if (key == "oom") return 0.8;
  return 0.4;  // another process's OOM kill, an invocation without a victim
}

bool worse(const EventFact& a, const EventFact& b) {
  return a.usedPercent > b.usedPercent || a.rssKb > b.rssKb;
}

// A pressure episode on one host: raised/cleared events of one resource merged while the gaps
// between them stay under CauseOptions::pressureMergeGapNs.
struct Episode {
  std::string host, kind;
  std::int64_t beganNs = 0;
  std::int64_t endedNs = 0;  // 0: still raised at its last event
  std::int64_t lastNs = 0;   // its last event
  double peakSome = 0, peakFull = 0;
  int events = 0;
  const EventFact* first = nullptr;
  bool present = false;  // raised before the window or at agent start
};

std::vector<Episode> pressureEpisodes(const CauseInput& in) {
  std::map<std::pair<std::string, std::string>, std::vector<Episode>> byHost;
  for (const auto& l : in.linked) {
    const EventFact& f = l.fact;
    if (f.type != FactKind::PRESSURE) continue;
    auto& list = byHost[{f.host, f.kind}];
    const std::int64_t began = beganAt(in, l);
    Episode* e = list.empty() ? nullptr : &list.back();
    const bool joins =
        e && (e->endedNs == 0 || began - e->endedNs <= in.options.pressureMergeGapNs);
    if (!joins) {
      list.push_back({f.host, f.kind, began, 0, f.timeNs, 0, 0, 0, &f, l.present || f.atStart});
      e = &list.back();
    }
    e->beganNs = std::min(e->beganNs, began);
    e->endedNs = f.raised ? 0 : f.timeNs;
    e->lastNs = f.timeNs;
    e->peakSome = std::max({e->peakSome, f.avg10, f.peakSomeAvg10});
    e->peakFull = std::max({e->peakFull, f.fullAvg10, f.peakFullAvg10});
    ++e->events;
  }
  std::vector<Episode> out;
  for (auto& [key, list] : byHost) std::move(list.begin(), list.end(), std::back_inserter(out));
  return out;
}

// How long an episode held: to its clearing, or (still raised) to the host's first failure or its
// last event, whichever is later.
std::int64_t heldNs(const CauseInput& in, const Episode& e) {
  if (e.endedNs != 0) return e.endedNs - e.beganNs;
  std::int64_t until = e.lastNs;
  if (const EventFact* failure = firstFailure(in, e.host)) until = std::max(until, failure->timeNs);
  return until - e.beganNs;
}

std::string episodeText(const CauseInput& in, const Episode& e) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "some avg10 peak %.0f%%, full avg10 peak %.0f%%, held %s%s",
                e.peakSome, e.peakFull, secondsText(heldNs(in, e)).c_str(),
                e.endedNs == 0 ? " (not cleared)" : "");
  std::string text = e.kind.substr(9) + " pressure " + buf;
  if (e.events > 2) text += ", " + std::to_string(e.events) + " raised/cleared events merged";
  if (e.present) text += ", already present when the deploy began";
  return text;
}

std::vector<Cause> pressureCauses(const CauseInput& in) {
  // kind -> (real, context)
  std::map<std::string, std::pair<Cause, Cause>> groups;
  std::map<std::string, const Episode*> worstOf;
  std::vector<Episode> episodes = pressureEpisodes(in);
  for (const auto& e : episodes) {
    const bool severe = (e.peakSome >= in.options.pressureSomeAvg10 ||
                         e.peakFull >= in.options.pressureFullAvg10) &&
                        heldNs(in, e) >= in.options.pressureMinNs;
    const bool real = severe && e.kind != "pressure.cpu" && causalOnHost(in, e.host, e.beganNs);
    auto& pair = groups[e.kind];
    Cause& c = real ? pair.first : pair.second;
    touchHost(c, e.host, e.beganNs);
    Evidence ev = evidenceOf(*e.first, real ? "cause" : "context");
    ev.timeNs = e.beganNs;
    ev.summary = oneLine(episodeText(in, e));
    c.evidence.push_back(std::move(ev));
    c.reasons.push_back(
        severe ? "severe: at or over some " + percent(in.options.pressureSomeAvg10) + " / full " +
                     percent(in.options.pressureFullAvg10) + " avg10 for " +
                     secondsText(in.options.pressureMinNs)
               : "below the pressure thresholds (some " + percent(in.options.pressureSomeAvg10) +
                     " / full " + percent(in.options.pressureFullAvg10) + " avg10 held " +
                     secondsText(in.options.pressureMinNs) + ")");
    if (std::string late = afterFailure(in, e.host, e.beganNs); !late.empty())
      c.reasons.push_back(late);
    const Episode*& worst = worstOf[e.kind + (real ? "+" : "-")];
    if (!worst || e.peakSome + e.peakFull > worst->peakSome + worst->peakFull) worst = &e;
  }
  std::vector<Cause> out;
  std::string job = deployJobUrl(in.release);
  for (auto& [kind, pair] : groups) {
    for (bool real : {true, false}) {
      Cause& c = real ? pair.first : pair.second;
      const Episode* worst = worstOf[kind + (real ? "+" : "-")];
      if (!worst) continue;
      c.category = "resource-exhaustion";
      c.hostsTotal = in.state.total();
      c.context = !real;
      c.rootKind = real;
      c.specificity = 0.6;
      std::sort(c.reasons.begin(), c.reasons.end());
      c.reasons.erase(std::unique(c.reasons.begin(), c.reasons.end()), c.reasons.end());
      c.title =
          oneLine(episodeText(in, *worst) + " on " + hostsPhrase(c.hosts, c.hostsTotal) + " " +
                  whenInDeploy(in, worst->host, worst->beganNs) + (real ? "" : " (context)"));
      c.openFirst.push_back(openEvent(*worst->first, "the " + worst->kind + " on " + worst->host));
      if (real && !job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
      out.push_back(std::move(c));
    }
  }
  return out;
}

// Failed hooks killed by the OOM killer: one cause per hook, the kill as its cause.
std::vector<Cause> hookOomCauses(const CauseInput& in) {
  std::map<std::pair<std::string, std::string>, Cause> byHook;
  std::map<std::pair<std::string, std::string>, const EventFact*> worstOf;
  for (const auto& host : in.state.hosts) {
    for (const EventFact* exit : finalHookFailures(in.linked, host.host)) {
      const EventFact* kill = oomOfHook(in, *exit);
      if (!kill) continue;
      auto key = std::make_pair(exit->phase, exit->command);
      Cause& c = byHook[key];
      touchHost(c, exit->host, kill->timeNs);
      c.evidence.push_back(evidenceOf(*kill, "cause"));
      Evidence ev = evidenceOf(*exit, "cause");
      ev.tail = exit->tail;
      c.evidence.push_back(std::move(ev));
      const EventFact*& worst = worstOf[key];
      if (!worst || kill->rssKb > worst->rssKb) worst = kill;
    }
  }
  std::vector<Cause> out;
  std::string job = deployJobUrl(in.release);
  for (auto& [key, c] : byHook) {
    const EventFact& kill = *worstOf[key];
    c.category = "resource-exhaustion";
    c.hostsTotal = in.state.total();
    c.rootKind = true;
    c.specificity = 0.9;
    c.title =
        oneLine("hook " + (key.first.empty() ? std::string() : key.first + " ") + "(`" +
                oneLine(key.second, 60) + "`) was OOM-killed: " + oomVictim(kill) +
                (kill.rssKb ? " (anon-rss " + humanBytes(kill.rssKb * 1024) +
                                  (kill.constraint.empty() ? "" : ", " + kill.constraint) + ")"
                            : "") +
                " on " + hostsPhrase(c.hosts, c.hostsTotal));
    c.reasons.push_back("the hook exited by SIGKILL and the kernel's OOM kill names its " +
                        std::string(kill.taskMemcg.empty() ? "pid" : "cgroup"));
    c.openFirst.push_back(openEvent(kill, "the oom.kill on " + kill.host));
    if (!job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::vector<Cause> resourceCauses(const CauseInput& in) {
  struct Group {
    Cause real, context;
    const EventFact* worstReal = nullptr;
    const EventFact* worstContext = nullptr;
    std::map<std::string, std::size_t> perHost;
  };
  std::vector<Cause> out = hookOomCauses(in);
  std::set<EventRef> hookKills;  // already the cause of a hook's failure
  for (const auto& c : out) {
    for (const auto& e : c.evidence) {
      if (e.ref && e.kind == "oom.kill") hookKills.insert(*e.ref);
    }
  }
  std::map<std::string, Group> groups;
  for (const auto& l : in.linked) {
    std::string key = resourceKey(l);
    if (key.empty() || hookKills.count(l.fact.ref)) continue;
    Group& g = groups[key];
    const EventFact& f = l.fact;
    const std::int64_t began = beganAt(in, l);
    bool real = key == "oom" ? !hostFailed(in, f.host) || causalOnHost(in, f.host, began)
                             : !key.starts_with("oom-") && causalOnHost(in, f.host, began);
    Cause& c = real ? g.real : g.context;
    const EventFact*& worst = real ? g.worstReal : g.worstContext;
    touchHost(c, f.host, began);
    if (!worst || worse(f, *worst)) worst = &f;
    if (std::string late = afterFailure(in, f.host, began); !late.empty() && g.perHost[f.host] == 0)
      c.reasons.push_back(late);
    if (g.perHost[f.host]++ < kEvidencePerHost) {
      Evidence ev = evidenceOf(f, real ? "cause" : "context");
      if (l.present || f.atStart) ev.summary += " (already present when the deploy began)";
      c.evidence.push_back(std::move(ev));
    }
  }
  std::string job = deployJobUrl(in.release);
  for (auto& [key, g] : groups) {
    for (bool real : {true, false}) {
      Cause& c = real ? g.real : g.context;
      const EventFact* worst = real ? g.worstReal : g.worstContext;
      if (!worst) continue;
      c.category = "resource-exhaustion";
      c.hostsTotal = in.state.total();
      c.context = !real;
      c.rootKind = real;
      c.rollbackHelps = real && key == "oom";  // the service itself ran out of memory
      c.specificity = resourceSpecificity(key);
      c.title = oneLine(resourceTitle(key, *worst, c.hosts, c.hostsTotal,
                                      whenInDeploy(in, worst->host, worst->timeNs)) +
                        (real ? "" : " (context)"));
      c.openFirst.push_back(openEvent(*worst, "the " + worst->kind + " on " + worst->host));
      if (real && !job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
      out.push_back(std::move(c));
    }
  }
  auto pressure = pressureCauses(in);
  std::move(pressure.begin(), pressure.end(), std::back_inserter(out));
  return out;
}

std::vector<Cause> orchestrationCauses(const CauseInput& in) {
  std::map<std::string, Cause> groups;
  std::map<std::string, const EventFact*> firstOf;
  std::map<std::pair<std::string, std::string>, std::size_t> perHost;
  for (const auto& l : in.linked) {
    const EventFact& f = l.fact;
    if (l.how == LinkKind::context || isOomOfService(l)) continue;
    std::string key;
    std::string what;
    double specificity = 0.55;
    switch (f.type) {
      case FactKind::UNIT_FAILED:
        key = "unit:" + f.unit + ":" + f.result;
        what = "unit " + f.unit + " failed (" + f.result + ")";
        specificity = f.result == "start-limit-hit" ? 0.6 : 0.55;
        break;
      case FactKind::CONTAINER_FAILED:
        key = "container:" + (f.image.empty() ? f.containerName : f.image);
        what = "container " + (f.containerName.empty() ? f.containerId : f.containerName) +
               (f.image.empty() ? "" : " (" + f.image + ")") + " failed" +
               (f.exitCode ? ", exit " + std::to_string(*f.exitCode) : "") +
               (f.error.empty() ? "" : ": " + f.error);
        break;
      case FactKind::HEALTH_FAILED:
        key = "health:" + f.probe;
        what = "health probe " + f.probe + " failed" +
               (f.status.empty() ? "" : " (" + f.status + ")") +
               (f.error.empty() ? "" : ": " + f.error);
        specificity = 0.45;
        break;
      default:
        continue;
    }
    Cause& c = groups[key];
    if (c.category.empty()) {
      c.category = "orchestration";
      c.rollbackHelps = true;
      c.specificity = specificity;
      c.symptomKind = true;
      c.title = what;
      firstOf[key] = &f;
    }
    touchHost(c, f.host, f.timeNs);
    if (perHost[{key, f.host}]++ < 2) c.evidence.push_back(evidenceOf(f, "cause"));
  }
  std::vector<Cause> out;
  std::string job = deployJobUrl(in.release);
  for (auto& [key, c] : groups) {
    const EventFact& f = *firstOf[key];
    c.hostsTotal = in.state.total();
    c.title = oneLine(c.title + " on " + hostsPhrase(c.hosts, c.hostsTotal) + " " +
                      whenInDeploy(in, f.host, f.timeNs));
    c.openFirst.push_back(openEvent(f, "the " + f.kind + " on " + f.host));
    if (!job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace octolaunch::analysis
