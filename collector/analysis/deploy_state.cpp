#include "collector/analysis/deploy_state.h"

#include <algorithm>
#include <map>
#include <set>

#include "shared/util/clock.h"

namespace octolaunch::analysis {

const char* hostStateName(HostState state) {
  switch (state) {
    case HostState::pending:
      return "pending";
    case HostState::inProgress:
      return "in_progress";
    case HostState::succeeded:
      return "succeeded";
    case HostState::failed:
      return "failed";
  }
  return "pending";
}

const HostDeployState* ReleaseState::host(const std::string& name) const {
  for (const auto& h : hosts) {
    if (h.host == name) return &h;
  }
  return nullptr;
}

std::vector<const EventFact*> finalHookFailures(std::span<const LinkedFact> linked,
                                                const std::string& host) {
  std::map<std::pair<std::string, std::string>, const EventFact*>
      last;  // (phase, command) -> last exit
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& l : linked) {
    const EventFact& f = l.fact;
    if (f.type != FactKind::HOOK_EXIT || f.host != host || l.how == LinkKind::context) continue;
    auto key = std::make_pair(f.phase, f.command);
    if (!last.count(key)) order.push_back(key);
    last[key] = &f;
  }
  std::vector<const EventFact*> out;
  for (const auto& k : order) {
    if (isFailureSignal(*last[k])) out.push_back(last[k]);
  }
  return out;
}

namespace {

// The first failure of the service after `afterNs` on the host, skipping health failures that
// recovered later.
const EventFact* serviceFailureAfter(std::span<const LinkedFact> linked, const std::string& host,
                                     std::int64_t afterNs) {
  for (std::size_t i = 0; i < linked.size(); ++i) {
    const EventFact& f = linked[i].fact;
    if (f.host != host || f.timeNs < afterNs || linked[i].how == LinkKind::context) continue;
    switch (f.type) {
      case FactKind::UNIT_FAILED:
      case FactKind::CONTAINER_FAILED:
      case FactKind::CONTAINER_OOM:
      case FactKind::OOM_KILL:
        return &f;
      case FactKind::HEALTH_FAILED: {
        bool recovered = false;
        for (std::size_t k = i + 1; k < linked.size() && !recovered; ++k) {
          const EventFact& g = linked[k].fact;
          recovered = g.host == host && g.type == FactKind::HEALTH_RECOVERED && g.probe == f.probe;
        }
        if (!recovered) return &f;
        break;
      }
      default:
        break;
    }
  }
  return nullptr;
}

HostDeployState hostState(const std::string& host, std::span<const DeployWindow> windows,
                          std::span<const LinkedFact> linked, std::int64_t nowNs,
                          const WindowOptions& opt) {
  HostDeployState s;
  s.host = host;
  // The last window on the host is the deploy that counts (earlier ones were retried or replaced).
  const DeployWindow* w = nullptr;
  for (const auto& x : windows) {
    if (x.host == host) w = &x;
  }
  auto fail = [&](const EventFact& f, std::string reason) {
    s.state = HostState::failed;
    s.sinceNs = f.timeNs;
    s.reason = std::move(reason);
    s.failure = f.ref;
  };
  if (w == nullptr) {
    // Reported only outside any window (e.g. events tagged with the release long after): treat the
    // tagged events as the deploy.
    s.state = HostState::inProgress;
  } else {
    s.rollback = w->rollback;
    s.unfinished = w->unfinished;
    s.state = HostState::inProgress;
    s.sinceNs = w->startNs;
  }
  auto hooks = finalHookFailures(linked, host);
  std::int64_t startNs = w ? w->startNs : 0;
  if (w && w->finishNs && w->outcome == Outcome::failed) {
    const EventFact* f = hooks.empty() ? nullptr : hooks.front();
    s.state = HostState::failed;
    s.sinceNs = *w->finishNs;
    s.failure = w->finishRef;
    s.reason = f ? f->summary : "deploy.finish reported failed";
    return s;
  }
  if (!hooks.empty()) {
    fail(*hooks.front(), hooks.front()->summary);
    return s;
  }
  if (w && w->finishNs) {
    // The hooks passed, but the service failed once they had run (a unit crash-looping after the
    // restart, during the rest of the window or after it): the deploy did not work, whatever the
    // script reported.
    if (const EventFact* f = serviceFailureAfter(linked, host, startNs)) {
      s.afterDeploy = f->timeNs >= *w->finishNs;
      fail(*f, (s.afterDeploy ? "after deploy: " : "during deploy: ") + f->summary);
      return s;
    }
    s.state = HostState::succeeded;
    s.sinceNs = *w->finishNs;
    s.reason = w->outcome == Outcome::ok ? "deploy finished ok" : "deploy finished";
    return s;
  }
  const EventFact* during = serviceFailureAfter(linked, host, startNs);
  bool closed = w && nowNs >= w->endNs;
  if (w && w->inferred && closed) {
    if (during) {
      fail(*during, during->summary);
    } else {
      s.state = HostState::succeeded;
      s.sinceNs = w->endNs - opt.graceNs;
      s.reason = "every hook passed (no deploy markers)";
    }
    return s;
  }
  if (w && w->unfinished && (closed || !w->supersededBy.empty())) {
    s.state = HostState::failed;
    s.sinceNs = w->endNs;
    s.failure = w->startRef;
    s.reason = !w->supersededBy.empty()
                   ? "deploy never finished: replaced by " + w->supersededBy
                   : "deploy never finished (no deploy.finish within " +
                         std::to_string(opt.maxOpenNs / 60'000'000'000LL) + " min)";
    if (during) s.reason += "; " + during->summary;
    return s;
  }
  if (during) s.reason = "in progress; seen: " + during->summary;
  return s;
}

}  // namespace

ReleaseState deployState(const Release& release, std::span<const DeployWindow> windows,
                         std::span<const LinkedFact> linked, std::int64_t nowNs,
                         const WindowOptions& options) {
  std::set<std::string> reporting;
  for (const auto& w : windows) reporting.insert(w.host);
  for (const auto& l : linked) {
    if (l.how != LinkKind::context) reporting.insert(l.fact.host);
  }
  std::set<std::string> all(reporting);
  all.insert(release.targetHosts.begin(), release.targetHosts.end());

  ReleaseState out;
  for (const auto& host : all) {
    HostDeployState s;
    if (reporting.count(host)) {
      s = hostState(host, windows, linked, nowNs, options);
    } else {
      s.host = host;
      s.reason = "declared target; nothing reported yet";
    }
    s.declared = std::find(release.targetHosts.begin(), release.targetHosts.end(), host) !=
                 release.targetHosts.end();
    switch (s.state) {
      case HostState::pending:
        ++out.pending;
        break;
      case HostState::inProgress:
        ++out.inProgress;
        break;
      case HostState::succeeded:
        ++out.succeeded;
        break;
      case HostState::failed:
        ++out.failed;
        break;
    }
    out.hosts.push_back(std::move(s));
  }
  bool stageFailed = false;
  for (const auto& st : stageStates(release)) stageFailed |= st.status == StageStatus::failed;
  if (reporting.empty()) {
    out.status = stageFailed ? "pipeline_failed" : "pending";
  } else if (out.failed > 0) {
    out.status = out.succeeded > 0 ? "partially_failed" : "failed";
  } else if (out.inProgress + out.pending > 0) {
    out.status = "in_progress";
  } else {
    out.status = stageFailed ? "pipeline_failed" : "succeeded";
  }
  return out;
}

nlohmann::json releaseStateJson(const ReleaseState& state, std::span<const DeployWindow> windows) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : state.hosts) {
    nlohmann::json j = {
        {"host", h.host},         {"state", hostStateName(h.state)}, {"declared", h.declared},
        {"rollback", h.rollback}, {"unfinished", h.unfinished},      {"reason", h.reason}};
    j["since"] = h.sinceNs ? nlohmann::json(formatRfc3339Ns(h.sinceNs)) : nlohmann::json(nullptr);
    if (h.failure) j["failure"] = {{"agent_id", h.failure->agentId}, {"seq", h.failure->seq}};
    nlohmann::json ws = nlohmann::json::array();
    for (const auto& w : windows) {
      if (w.host == h.host) ws.push_back(windowJson(w));
    }
    j["windows"] = std::move(ws);
    hosts.push_back(std::move(j));
  }
  return {{"status", state.status},
          {"hosts_total", state.total()},
          {"hosts_succeeded", state.succeeded},
          {"hosts_failed", state.failed},
          {"hosts_in_progress", state.inProgress},
          {"hosts_pending", state.pending},
          {"hosts", std::move(hosts)}};
}

}  // namespace octolaunch::analysis
