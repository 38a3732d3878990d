// Test support for the analysis: builds realistic event sequences with the Cap'n Proto builders
// (the same messages agents send) and serves them through an in-memory EventSource that records
// which queries the analysis made.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/analysis/release_analysis.h"
#include "shared/event/event_json.h"

namespace octolaunch::analysis::testing {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'764'310'000LL * kSec;  // 2025-11-28T06:06:40Z

inline std::int64_t at(double seconds) { return kT0 + static_cast<std::int64_t>(seconds * 1e9); }

class Scenario final : public EventSource {
 public:
  // A new event on `host` at kT0 + seconds; agent id "agent-<host>", seq counting per agent.
  schema::Event::Builder add(const std::string& host, double seconds,
                             const std::string& release = "", const std::string& service = "") {
    auto m = std::make_unique<capnp::MallocMessageBuilder>();
    auto e = m->initRoot<schema::Event>();
    e.setAgentId("agent-" + host);
    e.setEpoch(0x5eed);
    e.setSeq(++seq_[host]);
    e.setTimeNs(at(seconds));
    e.setHost(host);
    e.setRelease(release);
    e.setService(service);
    messages_.push_back(std::move(m));
    return messages_.back()->getRoot<schema::Event>();
  }

  void deployStart(const std::string& host, double t, const std::string& release,
                   const std::string& service) {
    add(host, t, release, service).getPayload().initDeployStart();
  }
  void deployFinish(const std::string& host, double t, const std::string& release,
                    const std::string& service, bool ok) {
    add(host, t, release, service)
        .getPayload()
        .initDeployFinish()
        .setOutcome(ok ? schema::DeployMarker::Outcome::OK : schema::DeployMarker::Outcome::FAILED);
  }
  // A hook run ending at t: its output lines (stderr when prefixed "!"), then hook.exit.
  void hook(const std::string& host, double t, const std::string& release,
            const std::string& service, const std::string& phase, const std::string& command,
            int exitCode, const std::vector<std::string>& lines = {}, double seconds = 2.0) {
    double step = seconds / static_cast<double>(lines.size() + 1);
    std::uint32_t outNo = 0, errNo = 0;
    std::vector<std::string> tail;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      bool err = !lines[i].empty() && lines[i][0] == '!';
      std::string text = err ? lines[i].substr(1) : lines[i];
      auto o = add(host, t - seconds + step * static_cast<double>(i + 1), release, service)
                   .getPayload()
                   .initHookOutput();
      o.setStream(err ? schema::HookOutput::Stream::STDERR : schema::HookOutput::Stream::STDOUT);
      o.setLineNo(err ? ++errNo : ++outNo);
      o.setLine(text);
      o.setPhase(phase);
      tail.push_back(text);
    }
    auto x = add(host, t, release, service).getPayload().initHookExit();
    x.setPhase(phase);
    x.setCommand(command);
    x.setExitCode(exitCode);
    x.setDurationMs(static_cast<std::uint64_t>(seconds * 1000));
    x.setStdoutLines(outNo);
    x.setStderrLines(errNo);
    auto tl = x.initTail(static_cast<unsigned>(std::min<std::size_t>(tail.size(), 5)));
    for (unsigned i = 0; i < tl.size(); ++i) tl.set(i, tail[tail.size() - tl.size() + i]);
  }
  // A line from a hook that is still running (no hook.exit yet).
  void output(const std::string& host, double t, const std::string& release,
              const std::string& service, const std::string& phase, const std::string& line,
              bool stderrLine = false) {
    auto o = add(host, t, release, service).getPayload().initHookOutput();
    o.setStream(stderrLine ? schema::HookOutput::Stream::STDERR
                           : schema::HookOutput::Stream::STDOUT);
    o.setLine(line);
    o.setPhase(phase);
  }
  // As the kernel reports a memcg OOM kill (kmsg "oom-kill:constraint=CONSTRAINT_MEMCG,...,
  // oom_memcg=/system.slice/api.service,task_memcg=/system.slice/api.service,task=api,pid=4242,uid=998"
  // followed by "Memory cgroup out of memory: Killed process 4242 (api) total-vm:1843200kB,
  // anon-rss:524288kB, file-rss:1024kB, shmem-rss:0kB, UID:998 pgtables:1200kB oom_score_adj:0").
  void oomKill(const std::string& host, double t, const std::string& process, int pid,
               const std::string& cgroup, std::uint64_t anonRssKb = 524288,
               const std::string& constraint = "CONSTRAINT_MEMCG") {
    auto o = add(host, t).getPayload().initOomKill();
    o.setPid(pid);
    o.setProcess(process);
    o.setUid(998);
    o.setTrigger(process);
    o.setTriggerPid(pid);
    o.setConstraint(constraint);
    o.setMemcg(cgroup);
    o.setTaskMemcg(cgroup);
    auto slash = cgroup.rfind('/');
    std::string leaf = slash == std::string::npos ? cgroup : cgroup.substr(slash + 1);
    if (leaf.ends_with(".service")) o.setUnit(leaf);
    o.setAnonRssKb(anonRssKb);
    o.setTotalVmKb(1843200);
    o.setFileRssKb(1024);
    o.setKiller("kernel");
    o.setSource("kmsg");
  }
  // As the agent's PSI source reports a trigger: raised with the current averages; cleared with
  // the episode it ends (raisedAt, peaks).
  void pressure(const std::string& host, double t, schema::Pressure::Resource resource, bool raised,
                double some, double full, double raisedAt = 0, double peakSome = 0,
                double peakFull = 0, bool atStart = false) {
    auto x = add(host, t).getPayload().initPressure();
    x.setResource(resource);
    x.setState(raised ? schema::Pressure::State::RAISED : schema::Pressure::State::CLEARED);
    x.setSomeAvg10(some);
    x.setFullAvg10(full);
    x.setThreshold(10);
    x.setStallUs(100'000);
    x.setWindowUs(1'000'000);
    if (!raised) {
      x.setRaisedNs(at(raisedAt));
      x.setPeakSomeAvg10(peakSome);
      x.setPeakFullAvg10(peakFull);
    }
    x.setAtStart(atStart);
  }
  // A hook killed by SIGKILL (the OOM killer), as the hook wrapper reports it.
  void killedHook(const std::string& host, double t, const std::string& release,
                  const std::string& service, const std::string& phase, const std::string& command,
                  int childPid, const std::string& cgroup, double seconds = 5.0) {
    auto x = add(host, t, release, service).getPayload().initHookExit();
    x.setPhase(phase);
    x.setCommand(command);
    x.setSignal(9);
    x.setDurationMs(static_cast<std::uint64_t>(seconds * 1000));
    x.setChildPid(childPid);
    x.setCgroup(cgroup);
    x.setUser("deploy");
    auto tl = x.initTail(1);
    tl.set(0, "loading 2.1M rows into orders_archive");
  }
  void diskFull(const std::string& host, double t, const std::string& mount, double usedPercent,
                bool atStart = false) {
    auto x = add(host, t).getPayload().initDiskFull();
    x.setAtStart(atStart);
    x.setState(schema::Pressure::State::RAISED);
    x.setMount(mount);
    x.setUsedPercent(usedPercent);
    x.setTotal(64ull << 20);
    x.setFree(static_cast<std::uint64_t>((100.0 - usedPercent) / 100.0 * (64 << 20)));
    x.setThreshold(95);
    x.setFsType("tmpfs");
  }
  // As the journal reports a failed unit (UNIT_RESULT=..., EXIT_STATUS=...).
  void unitFailed(const std::string& host, double t, const std::string& unit,
                  const std::string& result, int exitStatus = 1, bool oomKilled = false,
                  const std::string& service = "") {
    auto u = add(host, t, "", service).getPayload().initUnitFailed();
    u.setUnit(unit);
    u.setResult(result);
    u.setExitStatus(exitStatus);
    u.setOomKilled(oomKilled);
    u.setInvocationId("0b2f7c1e9d2a4c55a1f0e3b6d7c8a9b0");
    auto lines = u.initLastLines(1);
    lines.set(0, unit + ": Main process exited, code=exited, status=" + std::to_string(exitStatus) +
                     "/FAILURE");
  }
  void containerFailed(const std::string& host, double t, const std::string& name,
                       const std::string& image, int exitCode, const std::string& error) {
    auto c = add(host, t).getPayload().initContainerFailed();
    c.setContainerId("3f4e5d6c7b8a");
    c.setName(name);
    c.setImage(image);
    c.setExitCode(exitCode);
    c.setError(error);
    c.setAction("die");
  }
  void health(const std::string& host, double t, const std::string& release,
              const std::string& service, const std::string& probe, bool failed,
              const std::string& status = "503") {
    auto p = add(host, t, release, service).getPayload();
    auto h = failed ? p.initHealthFailed() : p.initHealthRecovered();
    h.setProbe(probe);
    h.setTarget("http://127.0.0.1:8080/healthz");
    h.setStatus(status);
    h.setLatencyMs(12);
  }
  void artifact(const std::string& host, double t, const std::string& release,
                const std::string& service, const std::string& digest) {
    auto a = add(host, t, release, service).getPayload().initArtifactObserved();
    a.setPath("/opt/api/api.tar.gz");
    a.setDigest(digest);
  }
  // entries: {name, kind, hmac}
  void fingerprint(const std::string& host, double t, const std::string& release,
                   const std::string& service, bool config,
                   const std::vector<FingerprintEntry>& entries, const std::string& keyId = "") {
    auto p = add(host, t, release, service).getPayload();
    auto f = config ? p.initConfigFingerprint() : p.initDependencyFingerprint();
    f.setKeyId(keyId);
    auto list = f.initEntries(static_cast<unsigned>(entries.size()));
    for (unsigned i = 0; i < entries.size(); ++i) {
      list[i].setName(entries[i].name);
      list[i].setKind(entries[i].kind);
      list[i].setHmac(entries[i].hmac);
    }
  }

  // EventSource: filters like the store (exact matches, since <= t < until), oldest first.
  void forEach(const Query& q, const std::function<bool(schema::Event::Reader)>& fn) override {
    queries.push_back(q);
    std::vector<schema::Event::Reader> hits;
    for (auto& m : messages_) {
      auto e = m->getRoot<schema::Event>().asReader();
      if (!q.release.empty() && e.getRelease() != q.release.c_str()) continue;
      if (!q.host.empty() && e.getHost() != q.host.c_str()) continue;
      if (!q.kind.empty() && kindName(e) != q.kind) continue;
      if (q.sinceNs && e.getTimeNs() < *q.sinceNs) continue;
      if (q.untilNs && e.getTimeNs() >= *q.untilNs) continue;
      hits.push_back(e);
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](auto a, auto b) { return a.getTimeNs() < b.getTimeNs(); });
    for (auto e : hits) {
      if (!fn(e)) break;
    }
  }

  std::map<std::string, ClockReading> clockReadings() override { return clocks; }

  std::size_t size() const { return messages_.size(); }
  // Every event so far, in the order added (per agent, seq order).
  std::vector<schema::Event::Reader> events() const {
    std::vector<schema::Event::Reader> out;
    for (const auto& m : messages_) out.push_back(m->getRoot<schema::Event>().asReader());
    return out;
  }
  std::vector<Query> queries;
  std::map<std::string, ClockReading> clocks;  // what clockReadings() answers

 private:
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages_;
  std::map<std::string, std::uint64_t> seq_;
};

inline Release makeRelease(const std::string& id, const std::string& service = "api",
                           std::vector<std::string> targets = {}) {
  Release r;
  r.id = id;
  r.service = service;
  r.version = "1.4.2";
  r.commit = "9fceb02d0ae598e95dc970b74767f19372d61af8";
  r.artifactDigest = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
  r.ciRunUrl = "https://github.com/acme/api/actions/runs/7001";
  r.jobUrls = {"https://github.com/acme/api/actions/runs/7001/job/1",
               "https://github.com/acme/api/actions/runs/7001/job/3"};
  r.targetHosts = std::move(targets);
  r.createdNs = kT0;
  r.updatedNs = kT0;
  return r;
}

}  // namespace octolaunch::analysis::testing
