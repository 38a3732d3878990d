// Rules for what the pipeline and the deploy hooks report: pipeline, deploy-script, flaky-deploy.
#include <algorithm>
#include <map>
#include <optional>

#include "collector/analysis/cause_rules.h"

namespace octolaunch::analysis {

namespace {

// The first failure on any failed host, on the collector's clock, with its host.
std::optional<std::pair<std::string, std::int64_t>> firstHostFailure(const CauseInput& in) {
  std::optional<std::pair<std::string, std::int64_t>> best;
  for (const auto& h : in.state.hosts) {
    if (h.state != HostState::failed) continue;
    const EventFact* f = firstFailure(in, h.host);
    std::int64_t t = f ? f->timeNs : h.sinceNs;
    if (!best ||
        in.clocks.toCollectorNs(h.host, t) < in.clocks.toCollectorNs(best->first, best->second))
      best = std::make_pair(h.host, t);
  }
  return best;
}

}  // namespace

std::vector<Cause> pipelineCauses(const CauseInput& in) {
  std::vector<Cause> out;
  bool reached = in.state.succeeded + in.state.failed + in.state.inProgress > 0;
  auto hostFailure = firstHostFailure(in);
  for (const auto& st : stageStates(in.release)) {
    if (st.status != StageStatus::failed) continue;
    Cause c;
    c.category = "pipeline";
    c.title = reached ? "pipeline stage '" + st.name + "' failed"
                      : "pipeline stage '" + st.name + "' failed: the release never reached a host";
    c.hostsTotal = in.state.total();
    c.firstSeenNs = st.updatedNs;
    c.specificity = reached ? 0.3 : 0.95;
    if (hostFailure) {
      // Hosts got far enough to fail: the stage reports their failure, it is not its cause.
      c.context = true;
      const auto& [host, t] = *hostFailure;
      auto order = in.clocks.compareAcross("", st.updatedNs, host, t);
      std::string rel = order == HostClocks::Order::overlapping
                            ? "at about the time of"
                            : relativeTime(st.updatedNs, in.clocks.toCollectorNs(host, t));
      c.reasons.push_back("a consequence: the stage reported failed " + rel +
                          " the first host failure (" + host + ", " +
                          clockText(in.clocks.of(host)) + ")");
    }
    c.evidence.push_back({std::nullopt, "pipeline.stage", "", st.updatedNs,
                          "stage " + st.name + " failed", "stage", st.jobUrl});
    std::string url = st.jobUrl.empty() ? in.release.ciRunUrl : st.jobUrl;
    if (!url.empty()) c.openFirst.push_back(openJob(url, "CI job of stage " + st.name));
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

struct HookRun {
  std::vector<const EventFact*> attempts;  // time order
  bool lastFailed() const { return isFailureSignal(*attempts.back()); }
  bool anyFailed() const {
    return std::any_of(attempts.begin(), attempts.end(),
                       [](const EventFact* f) { return isFailureSignal(*f); });
  }
};

std::string hookName(const EventFact& f) {
  return "hook " + (f.phase.empty() ? std::string() : f.phase + " ") + "(`" +
         oneLine(f.command, 60) + "`)";
}

std::string failureText(const EventFact& f) {
  if (f.signal) return "killed by signal " + std::to_string(*f.signal);
  return "exited " + std::to_string(f.exitCode.value_or(-1));
}

}  // namespace

std::vector<Cause> hookCauses(const CauseInput& in) {
  // (phase, command) -> host -> attempts
  std::map<std::pair<std::string, std::string>, std::map<std::string, HookRun>> hooks;
  for (const auto& l : in.linked) {
    if (l.how == LinkKind::context || l.fact.type != FactKind::HOOK_EXIT) continue;
    hooks[{l.fact.phase, l.fact.command}][l.fact.host].attempts.push_back(&l.fact);
  }
  std::vector<Cause> out;
  for (const auto& [key, byHost] : hooks) {
    std::vector<std::string> failing, retried, passed;
    for (const auto& [host, run] : byHost) {
      if (run.lastFailed() && oomOfHook(in, *run.attempts.back())) continue;  // that OOM's cause
      if (run.lastFailed()) {
        failing.push_back(host);
      } else if (run.anyFailed()) {
        retried.push_back(host);
      } else {
        passed.push_back(host);
      }
    }
    if (failing.empty() && retried.empty()) continue;
    Cause c;
    c.hostsTotal = in.state.total();
    c.symptomKind = true;
    const EventFact* first = nullptr;
    for (const auto& host : failing) {
      const HookRun& run = byHost.at(host);
      const EventFact* last = run.attempts.back();
      touchHost(c, host, last->timeNs);
      if (!first || last->timeNs < first->timeNs) first = last;
      const EventFact* line = nullptr;
      hookErrorLine(in, *last, &line);
      if (line) c.evidence.push_back(evidenceOf(*line, "cause"));
      Evidence exit = evidenceOf(*last, "cause");
      exit.tail = last->tail;
      c.evidence.push_back(std::move(exit));
    }
    for (const auto& host : retried) {
      const HookRun& run = byHost.at(host);
      for (const EventFact* a : run.attempts) {
        if (isFailureSignal(*a)) {
          touchHost(c, host, a->timeNs);
          if (!first) first = a;
          c.evidence.push_back(evidenceOf(*a, "cause"));
          break;
        }
      }
      c.evidence.push_back(evidenceOf(*run.attempts.back(), "passed"));
    }
    if (!first) continue;
    const EventFact& shown = *first;
    std::string err = isFailureSignal(shown) ? hookErrorLine(in, shown) : std::string();
    std::string name = hookName(shown);
    int ran = static_cast<int>(failing.size() + retried.size() + passed.size());
    if (!failing.empty() && retried.empty() && passed.empty()) {
      c.category = "deploy-script";
      c.specificity = 0.5;
      c.title = name + " " + failureText(shown) + " on " +
                hostsPhrase(failing, std::max(ran, c.hostsTotal));
    } else if (!failing.empty()) {
      c.category = "flaky-deploy";
      c.specificity = 0.55;
      c.title = name + " failed on " + std::to_string(failing.size()) + " of " +
                std::to_string(ran) + " hosts and passed on the others (" + failureText(shown) +
                " on " + failing.front() + ")";
      if (!passed.empty())
        c.evidence.push_back(evidenceOf(*byHost.at(passed.front()).attempts.back(), "passed"));
    } else {
      c.category = "flaky-deploy";
      c.specificity = 0.45;
      c.title = name + " failed, then passed on retry on " + hostsPhrase(retried, c.hostsTotal);
      // The release went on: this is worth knowing, not why anything failed.
      c.context = in.state.failed == 0;
    }
    if (!err.empty()) c.title += ": " + err;
    c.title = oneLine(c.title);
    std::string job = deployJobUrl(in.release);
    if (!job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
    c.openFirst.push_back(openEvent(shown, "the failed hook on " + shown.host));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace octolaunch::analysis
