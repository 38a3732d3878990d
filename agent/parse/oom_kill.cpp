#include "agent/parse/oom_kill.h"

#include <array>

#include "agent/parse/cgroup_path.h"
#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

constexpr std::string_view kInvoked = " invoked oom-killer: ";
constexpr std::string_view kSummary = "oom-kill:";
constexpr std::string_view kKilledProcess = "Killed process ";
constexpr std::string_view kKillProcess = "Kill process ";
constexpr std::string_view kReaped = "oom_reaper: reaped process ";
constexpr std::string_view kTaskIn = "Task in ";
constexpr std::string_view kAsResult = " killed as a result of limit of ";
constexpr std::string_view kMemcgStats = "Memory cgroup stats for ";
constexpr std::string_view kMemcgPrefix = "Memory cgroup out of memory: ";
// mm/oom_kill.c: a memcg OOM (or a sysrq one) with nothing to kill logs this and goes on; a global
// one panics with it ("Kernel panic - not syncing: Out of memory and no killable processes...").
constexpr std::string_view kNoKillable = "Out of memory and no killable processes";

// The prefixes the kernel has put before "Kill process" / "Killed process" over the years.
constexpr std::array<std::string_view, 4> kVictimPrefixes = {
    "Memory cgroup out of memory: ", "Out of memory: ",
    "Out of memory (oom_kill_allocating_task): ", ""};

// Strips a known prefix; tells whether it was the memcg one.
bool stripVictimPrefix(std::string_view& text, std::string_view what, bool& memcg) {
  for (auto prefix : kVictimPrefixes) {
    if (startsWith(text, prefix) && startsWith(text.substr(prefix.size()), what)) {
      memcg = prefix == kMemcgPrefix;
      text.remove_prefix(prefix.size() + what.size());
      return true;
    }
  }
  return false;
}

std::uint64_t kbAfter(std::string_view text, std::string_view key) {
  auto at = text.find(key);
  if (at == std::string_view::npos) return 0;
  return leadingU64(text.substr(at + key.size())).value_or(0);
}

std::optional<std::int32_t> signedAfter(std::string_view text, std::string_view key) {
  auto at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + key.size());
  const std::size_t sign = startsWith(rest, "-") ? 1 : 0;
  const std::size_t n = sign + leadingDigitCount(rest.substr(sign));
  return parseI32(rest.substr(0, n));
}

std::optional<std::int32_t> leadingPid(std::string_view& text) {
  const std::size_t n = leadingDigitCount(text);
  auto pid = parseI32(text.substr(0, n));
  if (pid) text.remove_prefix(n);
  return pid;
}

// "(comm)" where comm may itself hold spaces and parentheses: the comm ends at the first of
// ") total-vm:", "), UID ", ")," , else at the last ')'.
std::optional<std::string_view> parenthesisedComm(std::string_view text, std::string_view& after) {
  if (text.empty() || text.front() != '(') return std::nullopt;
  text.remove_prefix(1);
  std::size_t end = std::string_view::npos;
  for (std::string_view marker : {") total-vm:", "), UID ", "), ", ") score "}) {
    end = text.find(marker);
    if (end != std::string_view::npos) break;
  }
  if (end == std::string_view::npos) end = text.rfind(')');
  if (end == std::string_view::npos) return std::nullopt;
  after = text.substr(end + 1);
  return text.substr(0, end);
}

struct Victim {
  std::int32_t pid = 0;
  std::string process;
  std::int32_t uid = -1;
  std::uint64_t totalVm = 0, anonRss = 0, fileRss = 0, shmemRss = 0;
  std::optional<std::int32_t> oomScoreAdj;
  bool memcg = false;
};

// "Killed process ..." in every known wording; text starts after "Killed process ".
std::optional<Victim> parseVictim(std::string_view text, bool memcg) {
  Victim v;
  v.memcg = memcg;
  auto pid = leadingPid(text);
  if (!pid || *pid <= 0) return std::nullopt;
  v.pid = *pid;
  std::string_view rest;
  if (startsWith(text, ", UID ")) {  // 2.6.32: "Killed process N, UID U, (comm) total-vm:..."
    text.remove_prefix(6);
    auto uid = leadingPid(text);
    if (!uid || !startsWith(text, ", ")) return std::nullopt;
    v.uid = *uid;
    text.remove_prefix(2);
    auto comm = parenthesisedComm(text, rest);
    if (!comm) return std::nullopt;
    v.process = sanitizeUtf8(*comm);
  } else {
    if (!startsWith(text, " ")) return std::nullopt;
    text.remove_prefix(1);
    auto comm = parenthesisedComm(text, rest);
    if (!comm) return std::nullopt;
    v.process = sanitizeUtf8(*comm);
    if (startsWith(rest,
                   ", UID ")) {  // 3.10 (RHEL 7): "Killed process N (comm), UID U, total-vm:..."
      std::string_view u = rest.substr(6);
      if (auto uid = leadingPid(u)) v.uid = *uid;
    } else if (auto uid = signedAfter(rest, "UID:")) {  // 4.x+: ", UID:U pgtables:..."
      v.uid = *uid;
    }
  }
  v.totalVm = kbAfter(rest, "total-vm:");
  v.anonRss = kbAfter(rest, "anon-rss:");
  v.fileRss = kbAfter(rest, "file-rss:");
  v.shmemRss = kbAfter(rest, "shmem-rss:");
  v.oomScoreAdj = signedAfter(rest, "oom_score_adj:");
  return v;
}

// "oom-kill:constraint=...,nodemask=...,...,task=...,pid=...,uid=..." -> key/value pairs. A piece
// without '=' (other than the bare "global_oom" flag) belongs to the value before it (a comma in a
// task name or path).
std::vector<std::pair<std::string, std::string>> summaryPairs(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    auto comma = text.find(',');
    std::string_view piece = text.substr(0, comma);
    auto eq = piece.find('=');
    if (eq != std::string_view::npos) {
      out.emplace_back(std::string(piece.substr(0, eq)), std::string(piece.substr(eq + 1)));
    } else if (piece == "global_oom") {
      out.emplace_back("global_oom", "");
    } else if (!out.empty()) {
      out.back().second += ',';
      out.back().second += piece;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

void mapCgroups(OomKill& kill, std::string_view cpuset) {
  std::string_view primary = !kill.taskMemcg.empty() ? kill.taskMemcg : kill.memcg;
  kill.unit = unitFromCgroup(primary);
  kill.containerId = containerIdFromCgroup(primary);
  if (kill.unit.empty() && kill.containerId.empty() && primary != kill.memcg) {
    kill.unit = unitFromCgroup(kill.memcg);
    kill.containerId = containerIdFromCgroup(kill.memcg);
  }
  if (kill.containerId.empty() && !cpuset.empty()) kill.containerId = containerIdFromCgroup(cpuset);
}

}  // namespace

std::optional<OomReaped> parseOomReaped(std::string_view text) {
  if (!startsWith(text, kReaped)) return std::nullopt;
  text.remove_prefix(kReaped.size());
  auto pid = leadingPid(text);
  if (!pid || !startsWith(text, " ")) return std::nullopt;
  std::string_view rest;
  auto comm = parenthesisedComm(text.substr(1), rest);
  if (!comm) return std::nullopt;
  OomReaped r;
  r.pid = *pid;
  r.process = sanitizeUtf8(*comm);
  r.anonRssKb = kbAfter(rest, "anon-rss:");
  r.fileRssKb = kbAfter(rest, "file-rss:");
  r.shmemRssKb = kbAfter(rest, "shmem-rss:");
  return r;
}

OomAssembler::OomAssembler() : OomAssembler(Options{}) {}
OomAssembler::OomAssembler(Options options) : options_(options) {}

std::vector<OomKill> OomAssembler::flushPending() {
  std::vector<OomKill> out;
  if (!pending_) return out;
  Pending& p = *pending_;
  if (p.unemitted) {
    OomKill kill = p.kill;
    if (kill.pid == 0 && p.scoreVictimPid > 0) {
      kill.pid = p.scoreVictimPid;
      kill.process = p.scoreVictim;
    }
    kill.victimSeen = false;
    mapCgroups(kill, p.cpuset);
    out.push_back(std::move(kill));
  }
  pending_.reset();
  return out;
}

namespace {

void stamp(OomKill& kill, const KernelMessage& m) {
  if (m.monoUsec) kill.monoUsec = m.monoUsec;
  if (m.realtimeNs) kill.realtimeNs = m.realtimeNs;
  if (m.seq) kill.seq = m.seq;
}

}  // namespace

std::vector<OomKill> OomAssembler::feed(const KernelMessage& message) {
  std::vector<OomKill> out;
  std::string_view text = message.text;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  flushStale(message, out);
  if (takeHeader(text, message, out) || takeSummary(text, message, out) ||
      takeVictim(text, message, out) || takeScoreVictim(text, message, out) ||
      takeTaskIn(text, message) || takeReaped(text) || takeMemcgStats(text, message) ||
      takeNoKillable(text, message, out)) {
    return out;
  }
  takeReportDetail(text);
  return out;
}

void OomAssembler::flushStale(const KernelMessage& message, std::vector<OomKill>& out) {
  // A pending kill whose last line is older than the timeout (on the stream's own clock) is flushed
  // before this line is considered.
  if (!pending_) return;
  const OomKill& last = pending_->kill;
  if (message.monoUsec && last.monoUsec &&
      *message.monoUsec > *last.monoUsec + options_.pendingTimeoutUsec) {
    flushInto(out);
  } else if (message.realtimeNs && last.realtimeNs &&
             *message.realtimeNs >
                 *last.realtimeNs + static_cast<std::int64_t>(options_.pendingTimeoutUsec) * 1000) {
    flushInto(out);
  }
}

void OomAssembler::flushInto(std::vector<OomKill>& out) {
  auto flushed = flushPending();
  out.insert(out.end(), flushed.begin(), flushed.end());
}

OomAssembler::Pending& OomAssembler::pendingReport() {
  if (!pending_) pending_.emplace();
  return *pending_;
}

bool OomAssembler::takeHeader(std::string_view text, const KernelMessage& message,
                              std::vector<OomKill>& out) {
  auto at = text.find(kInvoked);
  if (at == std::string_view::npos || at == 0) return false;
  flushInto(out);
  Pending& p = pendingReport();
  p.kill.trigger = sanitizeUtf8(text.substr(0, at));
  p.headerSeen = true;
  p.unemitted = true;
  stamp(p.kill, message);
  ++recognised_;
  return true;
}

bool OomAssembler::takeSummary(std::string_view text, const KernelMessage& message,
                               std::vector<OomKill>& out) {
  if (!startsWith(text, kSummary)) return false;
  if (pending_ && (pending_->summarySeen || (pending_->victimEmitted && !pending_->unemitted))) {
    flushInto(out);
  }
  Pending& p = pendingReport();
  p.summarySeen = true;
  p.unemitted = true;
  for (auto& [key, value] : summaryPairs(text.substr(kSummary.size()))) {
    if (key == "constraint") {
      p.kill.constraint = sanitizeUtf8(value);
    } else if (key == "oom_memcg") {
      p.kill.memcg = sanitizeUtf8(value);
    } else if (key == "task_memcg") {
      p.kill.taskMemcg = sanitizeUtf8(value);
    } else if (key == "task") {
      p.kill.process = sanitizeUtf8(value);
    } else if (key == "pid") {
      p.kill.pid = parseI32(value).value_or(0);
    } else if (key == "uid") {
      p.kill.uid = parseI32(value).value_or(-1);
    } else if (key == "cpuset") {
      p.cpuset = value;
    }
  }
  stamp(p.kill, message);
  ++recognised_;
  return true;
}

bool OomAssembler::takeVictim(std::string_view text, const KernelMessage& message,
                              std::vector<OomKill>& out) {
  bool memcgWording = false;
  if (!stripVictimPrefix(text, kKilledProcess, memcgWording)) return false;
  auto victim = parseVictim(text, memcgWording);
  if (!victim) return true;
  Pending& p = pendingReport();
  OomKill kill = p.kill;
  kill.pid = victim->pid;
  kill.process = victim->process;
  if (victim->uid >= 0) kill.uid = victim->uid;
  kill.totalVmKb = victim->totalVm;
  kill.anonRssKb = victim->anonRss;
  kill.fileRssKb = victim->fileRss;
  kill.shmemRssKb = victim->shmemRss;
  kill.oomScoreAdj = victim->oomScoreAdj.value_or(0);
  if (kill.constraint.empty() && victim->memcg) kill.constraint = "CONSTRAINT_MEMCG";
  kill.victimSeen = true;
  stamp(kill, message);
  mapCgroups(kill, p.cpuset);
  out.push_back(std::move(kill));
  p.victimEmitted = true;
  p.unemitted = false;
  p.scoreVictimPid = 0;
  p.scoreVictim.clear();
  stamp(p.kill, message);
  ++recognised_;
  return true;
}

bool OomAssembler::takeScoreVictim(std::string_view text, const KernelMessage& message,
                                   std::vector<OomKill>& out) {
  bool memcgWording = false;
  if (!stripVictimPrefix(text, kKillProcess, memcgWording)) return false;
  auto pid = leadingPid(text);
  std::string_view after;
  auto comm = startsWith(text, " ") ? parenthesisedComm(text.substr(1), after) : std::nullopt;
  if (!pid || !comm) return true;
  if (pending_ && (pending_->victimEmitted || pending_->scoreVictimPid > 0)) flushInto(out);
  Pending& p = pendingReport();
  p.scoreVictimPid = *pid;
  p.scoreVictim = sanitizeUtf8(*comm);
  p.unemitted = true;
  if (p.kill.constraint.empty() && memcgWording) p.kill.constraint = "CONSTRAINT_MEMCG";
  stamp(p.kill, message);
  ++recognised_;
  return true;
}

bool OomAssembler::takeTaskIn(std::string_view text, const KernelMessage& message) {
  if (!startsWith(text, kTaskIn)) return false;
  auto at = text.find(kAsResult);
  if (at == std::string_view::npos) return true;
  Pending& p = pendingReport();
  p.kill.taskMemcg = sanitizeUtf8(text.substr(kTaskIn.size(), at - kTaskIn.size()));
  p.kill.memcg = sanitizeUtf8(text.substr(at + kAsResult.size()));
  if (p.kill.constraint.empty()) p.kill.constraint = "CONSTRAINT_MEMCG";
  p.unemitted = true;
  stamp(p.kill, message);
  ++recognised_;
  return true;
}

bool OomAssembler::takeReaped(std::string_view text) {
  auto reaped = parseOomReaped(text);
  if (!reaped) return false;
  if (reaped_.size() >= 64) reaped_.erase(reaped_.begin());
  reaped_.push_back(std::move(*reaped));
  ++recognised_;
  return true;
}

bool OomAssembler::takeMemcgStats(std::string_view text, const KernelMessage& message) {
  if (!startsWith(text, kMemcgStats)) return false;
  // Printed only in a memcg OOM report: it may be the first line a cut log still holds.
  Pending& p = pendingReport();
  std::string_view path = text.substr(kMemcgStats.size());
  path = path.substr(0, path.find(':'));
  if (p.kill.memcg.empty()) p.kill.memcg = sanitizeUtf8(path);
  if (p.kill.constraint.empty()) p.kill.constraint = "CONSTRAINT_MEMCG";
  p.unemitted = true;
  stamp(p.kill, message);
  ++recognised_;
  return true;
}

bool OomAssembler::takeNoKillable(std::string_view text, const KernelMessage& message,
                                  std::vector<OomKill>& out) {
  if (text.find(kNoKillable) == std::string_view::npos) return false;
  Pending& p = pendingReport();
  p.kill.noKillable = true;
  p.unemitted = true;
  stamp(p.kill, message);
  ++recognised_;
  flushInto(out);  // the report ends here: no victim line follows
  return true;
}

void OomAssembler::takeReportDetail(std::string_view text) {
  if (!pending_) return;
  Pending& p = *pending_;
  if (p.headerSeen && p.kill.triggerPid == 0 && startsWith(text, "CPU: ")) {
    auto at = text.find(" PID: ");
    if (at != std::string_view::npos) {
      std::string_view pidText = text.substr(at + 6);
      if (auto pid = leadingPid(pidText)) p.kill.triggerPid = *pid;
      ++recognised_;
    }
  } else if (p.headerSeen && !p.summarySeen && p.cpuset.empty()) {
    // Pre-4.19: "<comm> cpuset=<name> mems_allowed=<nodes>" right after the header.
    auto at = text.find(" cpuset=");
    auto mems = text.find(" mems_allowed=");
    if (at != std::string_view::npos && mems != std::string_view::npos && mems > at) {
      p.cpuset = std::string(text.substr(at + 8, mems - at - 8));
      ++recognised_;
    }
  }
}

std::vector<OomKill> OomAssembler::expire(std::uint64_t nowMonoUsec) {
  if (!pending_) return {};
  if (pending_->kill.monoUsec &&
      nowMonoUsec <= *pending_->kill.monoUsec + options_.pendingTimeoutUsec) {
    return {};
  }
  return flushPending();
}

std::vector<OomKill> OomAssembler::finish() { return flushPending(); }

void fillOomKill(schema::OomKill::Builder b, const OomKill& k) {
  b.setPid(k.pid);
  b.setProcess(k.process);
  b.setUid(k.uid);
  b.setTrigger(k.trigger);
  b.setTriggerPid(k.triggerPid);
  b.setConstraint(k.constraint);
  b.setMemcg(k.memcg);
  b.setTaskMemcg(k.taskMemcg);
  b.setUnit(k.unit);
  b.setContainerId(k.containerId);
  b.setAnonRssKb(k.anonRssKb);
  b.setTotalVmKb(k.totalVmKb);
  b.setFileRssKb(k.fileRssKb);
  b.setShmemRssKb(k.shmemRssKb);
  b.setOomScoreAdj(k.oomScoreAdj);
  b.setKiller(k.killer);
  b.setSource(k.source);
}

void fillOomEvent(schema::Event::Payload::Builder payload, const OomKill& kill) {
  if (kill.invocation()) {
    fillOomKill(payload.initOomInvocation(), kill);
  } else {
    fillOomKill(payload.initOomKill(), kill);
  }
}

}  // namespace octolaunch::parse
