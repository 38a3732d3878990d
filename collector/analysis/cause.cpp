#include "collector/analysis/cause.h"

#include <algorithm>
#include <cmath>

#include "shared/event/event_json.h"
#include "shared/util/clock.h"

namespace octolaunch::analysis {

Evidence evidenceOf(const EventFact& f, const char* role) {
  return {f.ref, f.kind, f.host, f.timeNs, oneLine(f.summary), role, {}};
}

OpenFirst openEvent(const EventFact& f, std::string label) {
  return {"event", std::move(label), {}, evidenceOf(f, "open")};
}

OpenFirst openJob(const std::string& url, std::string label) {
  return {"ci_job", std::move(label), url, std::nullopt};
}

const EventFact* firstFailure(const CauseInput& in, const std::string& host) {
  for (const auto& l : in.linked) {
    if (l.how != LinkKind::context && l.fact.host == host && isFailureSignal(l.fact))
      return &l.fact;
  }
  return nullptr;
}

bool hostFailed(const CauseInput& in, const std::string& host) {
  const HostDeployState* s = in.state.host(host);
  return s && s->state == HostState::failed;
}

std::string whenInDeploy(const CauseInput& in, const std::string& host, std::int64_t t) {
  // A hook that was running at t, or the first hook to fail within a minute after t.
  const EventFact* next = nullptr;
  for (const auto& l : in.linked) {
    const EventFact& f = l.fact;
    if (f.type != FactKind::HOOK_EXIT || f.host != host) continue;
    std::int64_t began = f.timeNs - static_cast<std::int64_t>(f.durationMs) * 1'000'000;
    if (t >= began && t <= f.timeNs) return f.phase.empty() ? "during a hook" : "during " + f.phase;
    if (!next && f.timeNs > t && f.timeNs - t < 60'000'000'000LL && isFailureSignal(f)) next = &f;
  }
  if (next) return next->phase.empty() ? "before a hook failed" : "during " + next->phase;
  for (const auto& w : in.windows) {
    if (w.host == host && w.finishNs && t >= *w.finishNs) return "after the deploy";
  }
  return "during the deploy";
}

std::string hostsPhrase(const std::vector<std::string>& hosts, int total) {
  if (hosts.size() == 1 && total <= 1) return hosts.front();
  if (hosts.size() == 1) return hosts.front() + " (1 of " + std::to_string(total) + " hosts)";
  return std::to_string(hosts.size()) + " of " + std::to_string(total) + " hosts";
}

std::string oneLine(std::string text, std::size_t n) {
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > n) {
    std::size_t cut = n - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;  // keep UTF-8 whole
    text = text.substr(0, cut) + "...";
  }
  return text;
}

namespace {

bool underCgroup(const std::string& path, const std::string& cgroup) {
  if (path.empty() || cgroup.empty()) return false;
  if (path == cgroup) return true;
  const std::string prefix = cgroup.ends_with('/') ? cgroup : cgroup + "/";
  return path.starts_with(prefix);
}

std::int64_t hookBeganNs(const EventFact& exit) {
  return exit.timeNs - static_cast<std::int64_t>(exit.durationMs) * 1'000'000;
}

}  // namespace

const EventFact* oomOfHook(const CauseInput& in, const EventFact& exit) {
  const bool killed =
      (exit.signal && *exit.signal == 9) || (exit.exitCode && *exit.exitCode == 137);
  if (!killed) return nullptr;
  // The kernel logs the kill before the parent reaps the child; allow a little either side for the
  // time the kmsg and memory.events readers take.
  constexpr std::int64_t kReadLagNs = 2'000'000'000;
  const std::int64_t from = hookBeganNs(exit) - kReadLagNs, to = exit.timeNs + kReadLagNs;
  const EventFact* byPid = nullptr;
  for (const auto& l : in.linked) {
    const EventFact& f = l.fact;
    if (f.type != FactKind::OOM_KILL || f.host != exit.host || f.timeNs < from || f.timeNs > to)
      continue;
    if (underCgroup(f.taskMemcg, exit.cgroup) || underCgroup(f.memcg, exit.cgroup)) return &f;
    if (!byPid && exit.childPid > 0 && f.pid == exit.childPid) byPid = &f;
  }
  return byPid;
}

std::string hookErrorLine(const CauseInput& in, const EventFact& exit, const EventFact** line) {
  std::vector<const EventFact*> facts;
  std::vector<std::string> stderrLines;
  const std::int64_t began = hookBeganNs(exit);
  for (const auto& l : in.linked) {
    const EventFact& f = l.fact;
    if (f.timeNs > exit.timeNs) break;
    if (f.type == FactKind::HOOK_OUTPUT && f.stderrLine && f.host == exit.host &&
        f.phase == exit.phase && f.timeNs >= began) {
      facts.push_back(&f);
      auto colon = f.summary.find("] ");
      stderrLines.push_back(colon == std::string::npos ? f.summary : f.summary.substr(colon + 2));
    }
  }
  std::string chosen = informativeLine(exit.tail, stderrLines);
  if (line) {
    *line = nullptr;
    for (std::size_t i = stderrLines.size(); i-- > 0;) {
      if (stderrLines[i] == chosen) {
        *line = facts[i];
        break;
      }
    }
  }
  return chosen;
}

std::int64_t beganAt(const CauseInput& in, const LinkedFact& l) {
  const EventFact& f = l.fact;
  std::int64_t t = f.timeNs;
  if (f.type == FactKind::PRESSURE && !f.raised && f.raisedNs != 0) t = std::min(t, f.raisedNs);
  if (l.present || f.atStart) {
    for (const auto& w : in.windows) {
      if (w.host == f.host) t = std::min(t, w.startNs);
    }
  }
  return t;
}

void touchHost(Cause& c, const std::string& host, std::int64_t timeNs) {
  auto it = std::lower_bound(c.hosts.begin(), c.hosts.end(), host);
  if (it == c.hosts.end() || *it != host) c.hosts.insert(it, host);
  auto [h, fresh] = c.hostFirstNs.try_emplace(host, timeNs);
  if (!fresh) h->second = std::min(h->second, timeNs);
  if (c.firstSeenNs == 0 || timeNs < c.firstSeenNs) c.firstSeenNs = timeNs;
}

nlohmann::json evidenceJson(const Evidence& e) {
  nlohmann::json j = {{"kind", e.kind},
                      {"host", e.host},
                      {"time", formatRfc3339Ns(e.timeNs)},
                      {"summary", e.summary},
                      {"role", e.role}};
  if (e.ref) {
    j["agent_id"] = e.ref->agentId;
    j["epoch"] = epochHex(e.ref->epoch);
    j["seq"] = e.ref->seq;
  }
  if (!e.url.empty()) j["url"] = e.url;
  if (!e.tail.empty()) j["output_tail"] = e.tail;
  return j;
}

nlohmann::json causeJson(const Cause& c) {
  nlohmann::json evidence = nlohmann::json::array();
  for (const auto& e : c.evidence) evidence.push_back(evidenceJson(e));
  nlohmann::json open = nlohmann::json::array();
  for (const auto& o : c.openFirst) {
    nlohmann::json j = {{"kind", o.kind}, {"label", o.label}};
    if (o.kind == "ci_job") j["url"] = o.url;
    if (o.event) {
      j.update(evidenceJson(*o.event));
      j["event_kind"] = o.event->kind;
      j["kind"] = o.kind;
      j.erase("role");
    }
    open.push_back(std::move(j));
  }
  return {{"category", c.category},
          {"title", c.title},
          {"score", std::round(c.score * 1000.0) / 1000.0},
          {"hosts_affected", c.hosts.size()},
          {"hosts_total", c.hostsTotal},
          {"hosts", c.hosts},
          {"first_seen", c.firstSeenNs ? nlohmann::json(formatRfc3339Ns(c.firstSeenNs))
                                       : nlohmann::json(nullptr)},
          {"evidence", std::move(evidence)},
          {"open_first", std::move(open)},
          {"context", c.context},
          {"reasons", c.reasons}};
}

}  // namespace octolaunch::analysis
