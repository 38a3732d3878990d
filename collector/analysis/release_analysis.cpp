#include "collector/analysis/release_analysis.h"

#include <algorithm>
#include <map>
#include <set>

#include "collector/analysis/drift.h"

namespace octolaunch::analysis {

namespace {

constexpr std::size_t kMaxBaselineReleases = 5;

std::vector<EventFact> fetch(EventSource& source, const EventSource::Query& q, std::size_t& read,
                             const std::function<bool(schema::Event::Reader)>& keep = {}) {
  std::vector<EventFact> out;
  source.forEach(q, [&](schema::Event::Reader e) {
    ++read;
    if (!keep || keep(e)) fillFact(out.emplace_back(), e);
    return true;
  });
  return out;
}

void readBaselines(ReleaseAnalysis& a, EventSource& source, const AnalysisOptions& opt,
                   ReleaseHistory* history) {
  std::set<std::string> need;
  for (const auto& w : a.windows) need.insert(w.host);
  std::size_t n = 0;
  std::vector<std::string> previous =
      history ? history->previousReleases(a.release, kMaxBaselineReleases) : opt.previousReleases;
  for (const auto& prev : previous) {
    if (need.empty() || n++ == kMaxBaselineReleases) break;
    if (prev == a.release.id) continue;
    std::set<std::string> okHosts;
    for (const auto& f : fetch(source, {prev, "", "deploy.finish", {}, {}}, a.eventsRead)) {
      if (f.outcome == Outcome::ok && need.count(f.host)) okHosts.insert(f.host);
    }
    if (okHosts.empty()) continue;
    auto config = fetch(source, {prev, "", "config.fingerprint", {}, {}}, a.eventsRead);
    auto deps = fetch(source, {prev, "", "dependency.fingerprint", {}, {}}, a.eventsRead);
    auto c = latestPerHost(config, FactKind::CONFIG_FINGERPRINT, "");
    auto d = latestPerHost(deps, FactKind::DEPENDENCY_FINGERPRINT, "");
    for (const auto& host : okHosts) {
      HostBaseline b;
      b.release = prev;
      for (const auto& fp : c) {
        if (fp.host != host) continue;
        b.config = fp.entries;
        b.configKeyId = fp.keyId;
      }
      for (const auto& fp : d) {
        if (fp.host != host) continue;
        b.dependency = fp.entries;
        b.dependencyKeyId = fp.keyId;
      }
      if (!b.config && !b.dependency) continue;
      a.baselines[host] = std::move(b);
      need.erase(host);
    }
  }
}

// Conditions still true when the windows opened: per host and condition kind, one indexed range
// over the lookback before the host's first window.
std::vector<EventFact> priorConditions(ReleaseAnalysis& a, EventSource& source,
                                       const AnalysisOptions& opt) {
  if (a.windows.empty() || opt.conditionLookbackNs <= 0) return {};
  std::map<std::string, std::int64_t> firstStart;
  for (const auto& w : a.windows) {
    auto [it, fresh] = firstStart.try_emplace(w.host, w.startNs);
    if (!fresh) it->second = std::min(it->second, w.startNs);
  }
  std::vector<EventFact> facts;
  for (const auto& [host, start] : firstStart) {
    for (const char* kind : conditionKinds()) {
      auto got =
          fetch(source, {"", host, kind, start - opt.conditionLookbackNs, start}, a.eventsRead);
      std::move(got.begin(), got.end(), std::back_inserter(facts));
    }
  }
  return conditionsAtStart(a.windows, std::move(facts), opt.recentFailureNs);
}

HostClocks readClocks(EventSource& source, const AnalysisOptions& opt) {
  std::map<std::string, HostClock, std::less<>> clocks;
  for (const auto& [host, r] : source.clockReadings())
    clocks[host] = measuredClock(r.offsetNs, r.roundTripNs, opt.clockFloorNs);
  return HostClocks(std::move(clocks), opt.unmeasuredClockUncertaintyNs);
}

}  // namespace

ReleaseAnalysis analyzeRelease(const Release& release, EventSource& source,
                               const AnalysisOptions& opt, std::int64_t nowNs,
                               ReleaseHistory* history, Detail detail) {
  ReleaseAnalysis a;
  a.release = release;
  a.windowOptions = opt.window;
  a.causeOptions = opt.causes;
  a.clocks = readClocks(source, opt);
  // 1. Events carrying the release id (release index). Skipped stdout lines still place their host
  // in time: the first and last one per host join `tagged` for the windows, not for linking.
  EventSource::Query byRelease{release.id, "", "", {}, {}};
  std::map<std::string, std::pair<std::int64_t, std::int64_t>, std::less<>> skippedSpans;
  if (detail == Detail::withoutHookStdout) {
    byRelease.skipHookStdout = true;
    byRelease.onSkippedHookStdout = [&](std::int64_t t, std::string_view host) {
      auto it = skippedSpans.find(host);
      if (it == skippedSpans.end()) {
        skippedSpans.emplace(std::string(host), std::make_pair(t, t));
      } else {
        it->second.first = std::min(it->second.first, t);
        it->second.second = std::max(it->second.second, t);
      }
    };
  }
  std::vector<EventFact> tagged = fetch(source, byRelease, a.eventsRead);
  const std::size_t fetched = tagged.size();
  for (const auto& [host, span] : skippedSpans) {
    for (std::int64_t t : {span.first, span.second}) {
      EventFact& f = tagged.emplace_back();
      f.host = host;
      f.timeNs = t;
      f.release = release.id;
      f.service = release.service;
      f.type = FactKind::HOOK_OUTPUT;
      f.kind = "hook.output";
    }
  }
  // 2. Deploy markers around them, per host (host + kind + time range).
  std::vector<EventFact> markers;
  for (const auto& r : markerRanges(tagged, opt.window, opt.markerLookbackNs)) {
    for (const char* kind : {"deploy.start", "deploy.finish"}) {
      auto got =
          fetch(source, {"", r.host, kind, r.sinceNs, r.untilNs}, a.eventsRead,
                [&](schema::Event::Reader e) { return e.getRelease() != release.id.c_str(); });
      std::move(got.begin(), got.end(), std::back_inserter(markers));
    }
  }
  ReleaseOrder order = opt.order;
  if (history) {
    order[release.id] = release.createdNs;
    for (const auto& m : markers) {
      if (order.count(m.release)) continue;
      if (auto t = history->registeredAt(m.release)) order[m.release] = *t;
    }
  }
  a.windows = computeWindows(release, tagged, markers, order, opt.window);
  tagged.resize(fetched);
  // 3. Events inside the windows that carry no release id (host + time range).
  std::vector<EventFact> candidates;
  for (const auto& r : windowRanges(a.windows)) {
    EventSource::Query q{"", r.host, "", r.sinceNs, r.untilNs};
    q.skipWithRelease = true;
    auto got = fetch(source, q, a.eventsRead,
                     [](schema::Event::Reader e) { return e.getRelease().size() == 0; });
    std::move(got.begin(), got.end(), std::back_inserter(candidates));
  }
  std::vector<EventFact> prior = priorConditions(a, source, opt);
  a.linked = linkEvents(release, a.windows, std::move(tagged), std::move(candidates), opt.mappings,
                        std::move(prior));
  a.state = deployState(release, a.windows, a.linked, nowNs, opt.window);
  if (a.state.failed > 0) readBaselines(a, source, opt, history);
  return a;
}

CauseReport ReleaseAnalysis::causes() const {
  CauseInput in{release, windows, linked, state, baselines, windowOptions, causeOptions, clocks};
  return findCauses(in);
}

nlohmann::json ReleaseAnalysis::causesJson() const { return causeReportJson(causes(), state); }

nlohmann::json ReleaseAnalysis::timelineJson(const TimelineOptions& options) const {
  return analysis::timelineJson(release, windows, linked, state, options);
}

std::string ReleaseAnalysis::timelineText(const TimelineOptions& options) const {
  return analysis::timelineText(release, windows, linked, state, options);
}

nlohmann::json ReleaseAnalysis::viewJson() const {
  nlohmann::json j = releaseToJson(release);
  j.erase("stage_reports");
  j.update(releaseStateJson(state, windows));
  return j;
}

nlohmann::json driftReport(EventSource& source, const std::string& service, std::int64_t sinceNs,
                           const std::string& environment,
                           const std::function<std::string(const std::string&)>& environmentOf) {
  std::size_t read = 0;
  auto keep = [&](schema::Event::Reader e) {
    if (e.getService() != service.c_str()) return false;
    if (environment.empty() || !environmentOf) return true;
    return environmentOf(std::string(e.getRelease().cStr())) == environment;
  };
  auto config = fetch(source, {"", "", "config.fingerprint", sinceNs, {}}, read, keep);
  auto deps = fetch(source, {"", "", "dependency.fingerprint", sinceNs, {}}, read, keep);
  auto c = latestPerHost(config, FactKind::CONFIG_FINGERPRINT, service);
  auto d = latestPerHost(deps, FactKind::DEPENDENCY_FINGERPRINT, service);
  return driftJson(service, c, d);
}

}  // namespace octolaunch::analysis
