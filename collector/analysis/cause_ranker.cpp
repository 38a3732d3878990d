#include "collector/analysis/cause_ranker.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "collector/analysis/cause_rules.h"

namespace octolaunch::analysis {

namespace {

constexpr double kProximityScaleNs = 300e9;

bool inEvidence(const Cause& c, const EventRef& ref) {
  return std::any_of(c.evidence.begin(), c.evidence.end(),
                     [&](const Evidence& e) { return e.ref && *e.ref == ref; });
}

// Root causes: find the failures that follow them on their hosts (one clock per host: compared
// directly), list them as symptoms.
int linkSymptoms(const CauseInput& in, Cause& root) {
  int explained = 0;
  std::vector<Evidence> symptoms;
  for (const auto& host : root.hosts) {
    std::int64_t t = root.hostFirstNs[host];
    int shown = 0;
    for (const auto& l : in.linked) {
      const EventFact& f = l.fact;
      if (f.host != host || l.how == LinkKind::context || !isFailureSignal(f) || f.timeNs < t)
        continue;
      if (inEvidence(root, f.ref)) continue;
      if (shown == 0) {
        ++explained;
        root.reasons.push_back("root cause: began " + relativeTime(t, f.timeNs) + " \"" +
                               oneLine(f.summary, 100) + "\" on " + host);
      }
      if (shown++ < 2) symptoms.push_back(evidenceOf(f, "symptom"));
    }
  }
  root.evidence.insert(root.evidence.end(), symptoms.begin(), symptoms.end());
  return explained;
}

// Symptoms: explained when each of their hosts had a root cause at or before them.
const Cause* explainedBy(const Cause& s, const std::vector<Cause>& all) {
  for (const auto& r : all) {
    if (!r.rootKind || r.context || &r == &s) continue;
    bool covers = !s.hosts.empty();
    for (const auto& host : s.hosts) {
      auto it = r.hostFirstNs.find(host);
      covers = covers && it != r.hostFirstNs.end() && it->second <= s.hostFirstNs.at(host);
    }
    if (covers) return &r;
  }
  return nullptr;
}

double spreadOf(const CauseInput& in, const Cause& c, std::string& why) {
  int failed = in.state.failed;
  int covered = 0;
  for (const auto& h : c.hosts) covered += hostFailed(in, h) ? 1 : 0;
  if (c.category == "pipeline") {
    why = "pipeline: applies to the whole release";
    return 1.0;
  }
  if (failed > 0) {
    why = "covers " + std::to_string(covered) + " of " + std::to_string(failed) + " failing hosts";
    return static_cast<double>(covered) / failed;
  }
  int total = std::max(1, in.state.total());
  why = "seen on " + std::to_string(c.hosts.size()) + " of " + std::to_string(total) + " hosts";
  return std::min(1.0, static_cast<double>(c.hosts.size()) / total);
}

double proximityOf(const CauseInput& in, const Cause& c) {
  if (c.hosts.empty()) return 1.0;
  std::int64_t best = INT64_MAX;
  for (const auto& host : c.hosts) {
    std::int64_t t = c.hostFirstNs.at(host);
    std::int64_t ref = 0;
    if (const EventFact* f = firstFailure(in, host)) {
      ref = f->timeNs;
    } else {
      for (const auto& w : in.windows) {
        if (w.host == host) ref = w.startNs;
      }
    }
    if (ref == 0) continue;
    best = std::min(best, t > ref ? t - ref : ref - t);
  }
  if (best == INT64_MAX) return 0.5;
  return 1.0 / (1.0 + static_cast<double>(best) / kProximityScaleNs);
}

void score(const CauseInput& in, std::vector<Cause>& causes) {
  // A failure signal on hosts that all ended fine is background, not a cause (a probe that
  // recovered, a restart during the deploy). A wrong artifact is wrong even on a healthy host.
  for (auto& c : causes) {
    if (c.context || c.hosts.empty() || c.category == "pipeline" ||
        c.category == "artifact-mismatch")
      continue;
    bool anyFailed = std::any_of(c.hosts.begin(), c.hosts.end(),
                                 [&](const std::string& h) { return hostFailed(in, h); });
    if (!anyFailed && in.state.inProgress == 0) {
      c.context = true;
      c.rootKind = false;
    }
  }
  // Time is causal: a root cause that began after the first failure on every one of its hosts
  // explains none of them. Observed states held while the deploy ran, whenever they were seen.
  for (auto& c : causes) {
    if (!c.rootKind || c.context || c.hosts.empty() || c.observedState) continue;
    std::string why;
    bool afterAll = true;
    for (const auto& host : c.hosts) {
      const EventFact* failure = firstFailure(in, host);
      if (!failure || failure->timeNs >= c.hostFirstNs.at(host)) {
        afterAll = false;
        break;
      }
      if (why.empty())
        why = "began " + relativeTime(c.hostFirstNs.at(host), failure->timeNs) +
              " the first failure on " + host;
    }
    if (afterAll) {
      c.context = true;
      c.rootKind = false;
      c.reasons.push_back("not a cause: " + why);
    }
  }
  for (auto& c : causes) {
    if (c.rootKind && !c.context && linkSymptoms(in, c) > 0) c.score += 0.20;
  }
  for (auto& c : causes) {
    std::string spreadWhy;
    double spread = spreadOf(in, c, spreadWhy);
    double prox = proximityOf(in, c);
    double base = 0.45 * c.specificity + 0.25 * spread + 0.10 * prox;
    c.reasons.insert(c.reasons.begin(), spreadWhy);
    char buf[96];
    std::snprintf(buf, sizeof buf, "specificity %.2f, proximity %.2f", c.specificity, prox);
    c.reasons.push_back(buf);
    if (c.symptomKind && !c.context) {
      if (const Cause* r = explainedBy(c, causes)) {
        base -= 0.20;
        c.reasons.push_back("likely a symptom: follows " + r->category + " (" +
                            oneLine(r->title, 80) + ") on " +
                            (c.hosts.size() == 1 ? c.hosts.front() : "the same hosts"));
      }
    }
    c.score = std::clamp(c.score + base, 0.01, 1.0);
    if (c.context) {
      c.score = 0.02 + 0.08 * c.score;
      c.reasons.push_back("context: seen during the deploy, not tied to a failure of it");
    }
  }
  std::stable_sort(causes.begin(), causes.end(), [](const Cause& a, const Cause& b) {
    if (a.context != b.context) return !a.context;
    if (a.score != b.score) return a.score > b.score;
    return a.firstSeenNs < b.firstSeenNs;
  });
}

// Only where rolling back helps: every host failed and the leading cause is the release's own
// failure on all of them (its service down, its artifact wrong, its service out of memory) — not
// a full disk, host pressure, another process's OOM kill or a pipeline failure.
bool rollbackAdvised(const CauseInput& in, const std::vector<Cause>& causes) {
  int total = in.state.total();
  if (total == 0 || in.state.failed != total) return false;
  for (const auto& c : causes) {
    if (c.context) continue;
    return c.rollbackHelps && static_cast<int>(c.hosts.size()) == total;  // the leading cause
  }
  return false;
}

std::string openText(const Cause& c) {
  for (const auto& o : c.openFirst) {
    if (o.kind == "ci_job") return "open " + o.url;
  }
  for (const auto& o : c.openFirst) {
    if (o.event) return "look at the " + o.event->kind + " on " + o.event->host;
  }
  return "";
}

std::string adviceFor(const CauseInput& in, const CauseReport& r) {
  const Cause* top = nullptr;
  for (const auto& c : r.causes) {
    if (!c.context) {
      top = &c;
      break;
    }
  }
  int total = in.state.total();
  std::string hosts = std::to_string(total) + (total == 1 ? " host" : " hosts");
  if (r.rollbackAdvised) {
    return "Rolling back is advised: " + in.release.service + " is failing on " +
           std::to_string(in.state.failed) + " of " + hosts + " after the deploy" +
           (top ? " (" + top->title + ")" : "") +
           ". The evidence is kept: these events stay in the store after a rollback.";
  }
  if (r.status == "pipeline_failed" && top)
    return "The pipeline failed before the deploy: " + top->title + "; " + openText(*top) + ".";
  if (r.status == "succeeded" && !top) return "No failures: the release deployed on " + hosts + ".";
  if (r.status == "pending" && !top) return "Nothing reported yet for this release.";
  if (!top) {
    if (r.status == "in_progress") return "Deploy in progress; no failures so far.";
    return "The release " + r.status + " but no cause stands out; read the timeline.";
  }
  std::string open = openText(*top);
  return "Start with " + top->category + ": " + top->title + (open.empty() ? "" : "; " + open) +
         ".";
}

}  // namespace

CauseReport findCauses(const CauseInput& in) {
  CauseReport r;
  r.release = in.release.id;
  r.status = in.state.status;
  for (auto* rule : {pipelineCauses, hookCauses, resourceCauses, orchestrationCauses,
                     artifactCauses, fingerprintCauses}) {
    auto found = rule(in);
    std::move(found.begin(), found.end(), std::back_inserter(r.causes));
  }
  score(in, r.causes);
  r.rollbackAdvised = rollbackAdvised(in, r.causes);
  r.advice = adviceFor(in, r);
  return r;
}

nlohmann::json causeReportJson(const CauseReport& r, const ReleaseState& state) {
  nlohmann::json causes = nlohmann::json::array();
  for (const auto& c : r.causes) causes.push_back(causeJson(c));
  return {{"release", r.release},         {"status", r.status},
          {"advice", r.advice},           {"rollback_advised", r.rollbackAdvised},
          {"hosts_total", state.total()}, {"hosts_failed", state.failed},
          {"causes", std::move(causes)}};
}

}  // namespace octolaunch::analysis
