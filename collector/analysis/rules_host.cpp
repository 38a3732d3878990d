// Rules for what the host reports about the service and its resources: resource-exhaustion and
// orchestration.
#include <algorithm>
#include <cstdio>
#include <map>

#include "collector/analysis/cause_rules.h"

namespace octolaunch::analysis {

namespace {

// Host-wide exhaustion counts as a cause on a host that failed no later than this after it.
constexpr std::int64_t kCausalSlackNs = 120'000'000'000LL;
constexpr std::size_t kEvidencePerHost = 3;

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", v);
  return buf;
}

bool isOomOfService(const LinkedFact& l) {
  const EventFact& f = l.fact;
  if (l.how == LinkKind::context) return false;
  return f.type == FactKind::OOM_KILL || f.type == FactKind::CONTAINER_OOM ||
         (f.type == FactKind::UNIT_FAILED && (f.oomKilled || f.result == "oom-kill")) ||
         (f.type == FactKind::CONTAINER_FAILED && f.oomKilled);
}

// Which resource an event exhausts; empty when it is not a resource event.
std::string resourceKey(const LinkedFact& l) {
  const EventFact& f = l.fact;
  if (isOomOfService(l)) return "oom";
  if (f.type == FactKind::OOM_KILL) return "oom-other:" + f.process;
  if (!f.raised) return "";
  switch (f.type) {
    case FactKind::DISK_FULL:
      return "disk:" + f.mount;
    case FactKind::INODE_EXHAUSTED:
      return "inode:" + f.mount;
    case FactKind::FD_EXHAUSTED:
      return "fd";
    case FactKind::PRESSURE:
      return f.kind == "pressure.cpu" ? "" : f.kind;
    default:
      return "";
  }
}

// True when the exhaustion on this host plausibly caused its failure: the host failed, and its
// first failure came after (or shortly before) the exhaustion.
bool causalOnHost(const CauseInput& in, const EventFact& f) {
  if (!hostFailed(in, f.host)) return false;
  const EventFact* failure = firstFailure(in, f.host);
  return failure == nullptr || failure->timeNs + kCausalSlackNs >= f.timeNs;
}

std::string resourceTitle(const std::string& key, const EventFact& worst,
                          const std::vector<std::string>& hosts, int total,
                          const std::string& when) {
  std::string where = " on " + hostsPhrase(hosts, total) + " " + when;
  if (key == "oom") {
    std::string what =
        worst.type == FactKind::UNIT_FAILED ? "unit " + worst.unit + " was OOM-killed"
        : worst.type == FactKind::OOM_KILL
            ? "OOM kill of " + worst.process +
                  (worst.rssKb ? " (anon-rss " + humanBytes(worst.rssKb * 1024) +
                                     (worst.constraint.empty() ? "" : ", " + worst.constraint) + ")"
                               : "")
            : "container " + worst.containerName + " was OOM-killed";
    return what + where;
  }
  if (key.starts_with("oom-other:")) return "OOM kill of another process, " + worst.process + where;
  if (key.starts_with("disk:"))
    return "disk full on " + worst.mount + " (" + percent(worst.usedPercent) + ")" + where;
  if (key.starts_with("inode:"))
    return "inodes exhausted on " + worst.mount + " (" + percent(worst.usedPercent) + ")" + where;
  if (key == "fd") return "file handles exhausted (" + percent(worst.usedPercent) + ")" + where;
  return worst.kind.substr(9) + " pressure (some avg10 " + percent(worst.avg10) + ")" + where;
}

double resourceSpecificity(const std::string& key) {
  if (key.starts_with("disk:") || key.starts_with("inode:") || key == "fd") return 0.85;
  if (key == "oom") return 0.8;
  if (key.starts_with("oom-other:")) return 0.4;
  return 0.6;  // pressure
}

bool worse(const EventFact& a, const EventFact& b) {
  return a.usedPercent > b.usedPercent || a.avg10 > b.avg10 || a.rssKb > b.rssKb;
}

}  // namespace

std::vector<Cause> resourceCauses(const CauseInput& in) {
  struct Group {
    Cause real, context;
    const EventFact* worstReal = nullptr;
    const EventFact* worstContext = nullptr;
    std::map<std::string, std::size_t> perHost;
  };
  std::map<std::string, Group> groups;
  for (const auto& l : in.linked) {
    std::string key = resourceKey(l);
    if (key.empty()) continue;
    Group& g = groups[key];
    const EventFact& f = l.fact;
    bool real = key == "oom" || (!key.starts_with("oom-other:") && causalOnHost(in, f));
    Cause& c = real ? g.real : g.context;
    const EventFact*& worst = real ? g.worstReal : g.worstContext;
    touchHost(c, f.host, f.timeNs);
    if (!worst || worse(f, *worst)) worst = &f;
    if (g.perHost[f.host]++ < kEvidencePerHost)
      c.evidence.push_back(evidenceOf(f, real ? "cause" : "context"));
  }
  std::vector<Cause> out;
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
      c.specificity = resourceSpecificity(key);
      c.title = oneLine(resourceTitle(key, *worst, c.hosts, c.hostsTotal,
                                      whenInDeploy(in, worst->host, worst->timeNs)) +
                        (real ? "" : " (context)"));
      c.openFirst.push_back(openEvent(*worst, "the " + worst->kind + " on " + worst->host));
      if (real && !job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
      out.push_back(std::move(c));
    }
  }
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
