#include "agent/parse/unit_failure.h"

#include <algorithm>
#include <array>

#include "agent/parse/earlyoom.h"
#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

// MESSAGE_IDs from systemd's sd-messages.h.
constexpr std::string_view kIdUnitProcessExit = "98e322203f7a4ed290d09fe03c09fe15";
constexpr std::string_view kIdUnitFailureResult = "d9b373ed55a64feb8242e02dbe79a49c";
constexpr std::string_view kIdUnitFailed = "be02cf6855d2428ba40df7e9d022f03d";  // "Failed to start"
constexpr std::string_view kIdSpawnFailed = "641257651c1b4ec9a8624d7a40a9e1e7";
constexpr std::string_view kIdOomdKill = "d989611b15e44c9dbf31e3c81256e4ed";
constexpr std::string_view kIdUnitOutOfMemory = "fe6faa94e7774663a0da52717891d8ef";
constexpr std::string_view kIdCoredump = "fc2e22bc6ee647b6b90729ab34a250b1";

constexpr std::array<std::string_view, 32> kSignals = {
    "",     "HUP",  "INT",  "QUIT", "ILL",    "TRAP",   "ABRT",  "BUS",  "FPE",  "KILL", "USR1",
    "SEGV", "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD",  "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG",  "XCPU", "XFSZ", "VTALRM", "PROF",   "WINCH", "IO",   "PWR",  "SYS"};

std::string signalName(std::string_view status) {
  if (auto n = parseU64(status); n && *n < kSignals.size()) return std::string(kSignals[*n]);
  if (startsWith(status, "SIG")) status.remove_prefix(3);
  return sanitizeUtf8(status);
}

std::string firstLine(std::string_view text) {
  return sanitizeUtf8(text.substr(0, text.find('\n')));
}

// "api.service: Main process exited, ..." -> "Main process exited, ..." (the unit name may be given
// in UNIT already; older systemd wrote "api.service main process exited" or "Unit api.service
// ...").
std::string_view body(std::string_view message, std::string_view unit) {
  if (!unit.empty() && startsWith(message, unit)) {
    std::string_view rest = message.substr(unit.size());
    if (startsWith(rest, ": ")) return rest.substr(2);
    if (startsWith(rest, " ")) return rest.substr(1);
  }
  return message;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// "code=exited, status=1/FAILURE" -> ("exited", "1", "FAILURE").
void parseExit(std::string_view text, std::string& code, std::string& status, std::string& name) {
  auto c = text.find("code=");
  if (c != std::string_view::npos) {
    std::string_view v = text.substr(c + 5);
    code = std::string(v.substr(0, v.find_first_of(", ")));
  }
  auto s = text.find("status=");
  if (s != std::string_view::npos) {
    std::string_view v = text.substr(s + 7);
    v = v.substr(0, v.find_first_of(" ,)"));
    auto slash = v.find('/');
    status = std::string(v.substr(0, slash));
    if (slash != std::string_view::npos) name = std::string(v.substr(slash + 1));
  }
}

std::string resultFromCode(std::string_view code) {
  if (code == "exited") return "exit-code";
  if (code == "killed") return "signal";
  if (code == "dumped") return "core-dump";
  return "exit-code";
}

}  // namespace

std::string normaliseUnitResult(std::string_view result) {
  if (result == "start-limit") return "start-limit-hit";
  return sanitizeUtf8(result);
}

UnitFailureAssembler::UnitFailureAssembler() : UnitFailureAssembler(Options{}) {}
UnitFailureAssembler::UnitFailureAssembler(Options options) : options_(options) {}

UnitFailureAssembler::Invocation& UnitFailureAssembler::invocation(const std::string& key,
                                                                   const std::string& unit,
                                                                   const std::string& id) {
  auto it = invocations_.find(key);
  if (it != invocations_.end()) return it->second;
  Invocation& inv = invocations_[key];
  inv.failure.unit = unit;
  inv.failure.invocationId = id;
  order_.push_back(key);
  bound();
  return invocations_[key];
}

void UnitFailureAssembler::bound() {
  while (invocations_.size() > options_.maxUnits && !order_.empty()) {
    invocations_.erase(order_.front());
    order_.pop_front();
  }
  if (lines_.size() > options_.maxUnits) lines_.clear();
  if (restarts_.size() > options_.maxUnits) restarts_.clear();
  if (lastOom_.size() > options_.maxUnits) lastOom_.clear();
}

void UnitFailureAssembler::completeKey(const std::string& key, Output& out) {
  auto it = invocations_.find(key);
  if (it == invocations_.end()) return;
  Invocation& inv = it->second;
  if (inv.failed || inv.exitFailed) {
    UnitFailure f = std::move(inv.failure);
    // Journal fields are bytes: what leaves the parser is valid UTF-8.
    f.unit = sanitizeUtf8(f.unit);
    f.invocationId = sanitizeUtf8(f.invocationId);
    f.host = sanitizeUtf8(f.host);
    f.result = sanitizeUtf8(f.result);
    f.signal = sanitizeUtf8(f.signal);
    if (f.result.empty()) f.result = resultFromCode(inv.exitCode);
    if (auto r = restarts_.find(f.unit); r != restarts_.end() && f.restarts == 0)
      f.restarts = r->second;
    if (auto o = lastOom_.find(f.unit); o != lastOom_.end()) {
      std::int64_t at = f.realtimeUsec;
      if (at == 0 ||
          (o->second >= at - options_.oomJoinUsec && o->second <= at + options_.oomJoinUsec)) {
        f.oomKilled = true;
      }
    }
    if (f.result == "oom-kill") f.oomKilled = true;
    if (auto l = lines_.find(f.unit); l != lines_.end()) {
      for (const auto& line : l->second) {
        if (line.invocationId.empty() || f.invocationId.empty() ||
            line.invocationId == f.invocationId) {
          f.lastLines.push_back(line.text);
        }
      }
      if (f.lastLines.size() > options_.lastLines) {
        f.lastLines.erase(f.lastLines.begin(),
                          f.lastLines.end() - static_cast<std::ptrdiff_t>(options_.lastLines));
      }
    }
    out.failures.push_back(std::move(f));
  }
  forget(it);
}

void UnitFailureAssembler::forget(std::unordered_map<std::string, Invocation>::iterator it) {
  const std::string key = it->first;
  invocations_.erase(it);
  order_.erase(std::remove(order_.begin(), order_.end(), key), order_.end());
}

void UnitFailureAssembler::completeUnitExcept(const std::string& unit, const std::string& keepKey,
                                              Output& out) {
  std::vector<std::string> done;
  for (const auto& key : order_) {
    if (key == keepKey) continue;
    auto it = invocations_.find(key);
    if (it != invocations_.end() && it->second.failure.unit == unit && it->second.failed)
      done.push_back(key);
  }
  for (const auto& key : done) completeKey(key, out);
}

void UnitFailureAssembler::noteOom(const OomKill& kill, std::int64_t atUsec) {
  if (kill.unit.empty()) return;
  lastOom_[kill.unit] = atUsec;
  for (auto& [key, inv] : invocations_) {
    if (inv.failure.unit == kill.unit) inv.failure.oomKilled = true;
  }
}

UnitFailureAssembler::Output UnitFailureAssembler::expire(std::int64_t nowUsec) {
  Output out;
  std::vector<std::string> done;
  for (const auto& key : order_) {
    const Invocation& inv = invocations_[key];
    if (inv.failed && nowUsec > inv.heldSinceUsec + options_.holdUsec) done.push_back(key);
  }
  for (const auto& key : done) completeKey(key, out);
  return out;
}

UnitFailureAssembler::Output UnitFailureAssembler::finish() {
  Output out;
  for (auto& kill : kernel_.finish()) {
    kill.source = "journal";
    noteOom(kill, kill.realtimeNs ? *kill.realtimeNs / 1000 : 0);
    if (options_.kernelOomKills) out.oomKills.push_back(std::move(kill));
  }
  std::vector<std::string> keys(order_.begin(), order_.end());
  for (const auto& key : keys) completeKey(key, out);
  return out;
}

UnitFailureAssembler::Output UnitFailureAssembler::feed(const JournalEntry& entry) {
  const std::int64_t now = entry.realtimeUsec();
  Output out = now > 0 ? expire(now) : Output{};
  const std::string_view message = entry.value("MESSAGE");
  if (entry.value("_TRANSPORT") == "kernel") {
    takeKernelLine(entry, message, now, out);
    return out;
  }
  if (takeEarlyoomKill(entry, message, now, out)) return out;
  const std::string_view messageId = entry.value("MESSAGE_ID");
  if (messageId == kIdCoredump || entry.get("COREDUMP_UNIT")) {
    takeCoredump(entry, message);
    return out;
  }
  std::string unit(entry.value("UNIT"));
  if (unit.empty()) {
    takeOwnLine(entry, message);
    return out;
  }
  std::string id(entry.value("INVOCATION_ID"));
  std::string key = id.empty() ? "unit:" + unit : id;
  std::string_view text = body(message, unit);
  if (startsWith(text, "Unit ") && text.find(unit) == 5) text = text.substr(5 + unit.size() + 1);
  takeUnitMessage({entry, messageId, std::move(unit), std::move(id), std::move(key), text, now},
                  out);
  return out;
}

void UnitFailureAssembler::takeKernelLine(const JournalEntry& entry, std::string_view message,
                                          std::int64_t now, Output& out) {
  KernelMessage km;
  km.text = std::string(message);
  if (auto mono = parseU64(entry.value("_SOURCE_MONOTONIC_TIMESTAMP"))) km.monoUsec = *mono;
  if (now > 0) km.realtimeNs = now * 1000;
  const std::uint64_t before = kernel_.recognisedLines();
  for (auto& kill : kernel_.feed(km)) {
    kill.source = "journal";
    noteOom(kill, kill.realtimeNs ? *kill.realtimeNs / 1000 : now);
    if (options_.kernelOomKills) out.oomKills.push_back(std::move(kill));
  }
  if (kernel_.recognisedLines() != before) ++recognised_;
}

bool UnitFailureAssembler::takeEarlyoomKill(const JournalEntry& entry, std::string_view message,
                                            std::int64_t now, Output& out) {
  // earlyoom kills from user space: no kernel line, only its own report.
  if (!isEarlyoomEntry(entry.value("SYSLOG_IDENTIFIER"), entry.value("_COMM"))) return false;
  auto kill = parseEarlyoomKill(message);
  if (!kill) return false;
  ++recognised_;
  if (now > 0) kill->realtimeNs = now * 1000;
  out.oomKills.push_back(std::move(*kill));
  return true;
}

void UnitFailureAssembler::takeCoredump(const JournalEntry& entry, std::string_view message) {
  std::string unit(entry.value("COREDUMP_UNIT"));
  if (unit.empty()) return;
  ++recognised_;
  for (auto& [key, inv] : invocations_) {
    if (inv.failure.unit != unit) continue;
    if (auto pid = parseI32(entry.value("COREDUMP_PID"))) inv.failure.pid = *pid;
    inv.failure.message = firstLine(message);
    if (inv.failure.signal.empty())
      inv.failure.signal = signalName(entry.value("COREDUMP_SIGNAL_NAME"));
  }
}

void UnitFailureAssembler::takeOwnLine(const JournalEntry& entry, std::string_view message) {
  std::string own(entry.value("_SYSTEMD_UNIT"));
  if (own.empty() || own == "init.scope" || message.empty()) return;
  auto& lines = lines_[own];
  lines.push_back({std::string(entry.value("_SYSTEMD_INVOCATION_ID")), sanitizeUtf8(message)});
  while (lines.size() > options_.lastLines * 4) lines.pop_front();
  ++recognised_;
  bound();
}

void UnitFailureAssembler::takeUnitMessage(const UnitMessage& m, Output& out) {
  // A message of another invocation of this unit ends the hold of the earlier ones.
  if (!m.id.empty()) completeUnitExcept(m.unit, m.key, out);
  if (takeProcessExit(m) || takeResult(m) || takeFailedToStart(m, out) || takeFailedState(m) ||
      takeFailureMessage(m) || takeRestart(m) || takeOomMessage(m, out) || takeCleanEnd(m)) {
    return;
  }
  if (m.id.empty() && (startsWith(m.text, "Starting ") || startsWith(m.text, "Started "))) {
    // No invocation ids (older systemd): a new start ends the previous invocation.
    completeKey(m.key, out);
  }
}

UnitFailureAssembler::Invocation& UnitFailureAssembler::touch(const UnitMessage& m) {
  Invocation& inv = invocation(m.key, m.unit, m.id);
  inv.lastUsec = m.now;
  ++recognised_;
  return inv;
}

bool UnitFailureAssembler::takeProcessExit(const UnitMessage& m) {
  if (m.messageId != kIdUnitProcessExit && !startsWithNoCase(m.text, "main process exited, "))
    return false;
  std::string code(m.entry.value("EXIT_CODE")), status(m.entry.value("EXIT_STATUS")), name;
  std::string textCode, textStatus;
  parseExit(m.text, textCode, textStatus, name);
  if (code.empty()) code = textCode;
  if (status.empty()) status = textStatus;
  const bool failing = code != "exited" || status != "0";
  if (!failing) return true;
  Invocation& inv = touch(m);
  inv.exitFailed = true;
  inv.exitCode = code;
  if (code == "exited") {
    inv.failure.exitStatus = parseI32(status).value_or(-1);
  } else {
    inv.failure.signal = !name.empty() ? sanitizeUtf8(name) : signalName(status);
  }
  if (inv.failure.message.empty()) inv.failure.message = firstLine(m.text);
  inv.failure.realtimeUsec = m.now;
  inv.failure.host = std::string(m.entry.value("_HOSTNAME"));
  return true;
}

bool UnitFailureAssembler::takeResult(const UnitMessage& m) {
  if (m.messageId != kIdUnitFailureResult && !startsWith(m.text, "Failed with result '"))
    return false;
  std::string result(m.entry.value("UNIT_RESULT"));
  if (result.empty()) {
    std::string_view r = m.text.substr(m.text.find('\'') + 1);
    result = std::string(r.substr(0, r.find('\'')));
  }
  Invocation& inv = touch(m);
  result = normaliseUnitResult(result);
  // The start limit is logged as a second result line of the last invocation.
  if (inv.failure.result.empty() || result == "start-limit-hit") inv.failure.result = result;
  hold(inv, m.now);
  inv.failure.host = std::string(m.entry.value("_HOSTNAME"));
  return true;
}

bool UnitFailureAssembler::takeFailedToStart(const UnitMessage& m, Output& out) {
  if (m.messageId != kIdUnitFailed && !startsWith(m.text, "Failed to start ")) return false;
  auto it = invocations_.find(m.key);
  if (it != invocations_.end() && (it->second.failed || it->second.exitFailed)) {
    ++recognised_;
    it->second.failed = true;
    completeKey(m.key, out);
  }
  return true;
}

bool UnitFailureAssembler::takeFailedState(const UnitMessage& m) {
  if (!startsWith(m.text, "entered failed state") && m.text != "failed." &&
      !startsWith(m.text, "Unit entered failed state")) {
    return false;
  }
  // Older systemd (no "Failed with result"): the result follows from the exit code.
  Invocation& inv = touch(m);
  if (inv.failure.result.empty()) inv.failure.result = resultFromCode(inv.exitCode);
  hold(inv, m.now);
  return true;
}

void UnitFailureAssembler::hold(Invocation& inv, std::int64_t now) {
  if (!inv.failed) inv.heldSinceUsec = now;
  inv.failed = true;
  inv.failure.realtimeUsec = now;
}

bool UnitFailureAssembler::takeFailureMessage(const UnitMessage& m) {
  const std::string_view t = m.text;
  if (startsWith(t, "Start request repeated too quickly") ||
      startsWith(t, "start operation timed out") || startsWith(t, "Watchdog timeout") ||
      t.find("operation timed out") != std::string_view::npos ||
      startsWith(t, "State 'stop-sigterm' timed out")) {
    touch(m).failure.message = firstLine(t);
    return true;
  }
  if (m.messageId == kIdSpawnFailed || startsWith(t, "Failed to execute ") ||
      startsWith(t, "Failed at step ") || startsWith(t, "Failed to locate executable ")) {
    Invocation& inv = touch(m);
    if (inv.failure.message.empty() || startsWith(inv.failure.message, "Main process exited")) {
      inv.failure.message = firstLine(t);
    }
    return true;
  }
  return false;
}

bool UnitFailureAssembler::takeRestart(const UnitMessage& m) {
  constexpr std::string_view kCounter = "Scheduled restart job, restart counter is at ";
  if (startsWith(m.text, kCounter)) {
    auto n = leadingU64(m.text.substr(kCounter.size()));
    if (n && *n <= 0xffffffffu) {
      restarts_[m.unit] = static_cast<std::uint32_t>(*n);
      touch(m).failure.restarts = static_cast<std::uint32_t>(*n);
    }
    return true;
  }
  if (m.text.find("holdoff time over, scheduling restart") != std::string_view::npos) {
    const std::uint32_t n = ++restarts_[m.unit];
    touch(m).failure.restarts = n;
    return true;
  }
  return false;
}

bool UnitFailureAssembler::takeOomMessage(const UnitMessage& m, Output& out) {
  if (m.messageId == kIdOomdKill || startsWith(m.text, "systemd-oomd killed ")) {
    Invocation& inv = touch(m);
    inv.failure.oomKilled = true;
    inv.failure.message = firstLine(m.text);
    OomKill kill;
    kill.unit = sanitizeUtf8(m.unit);
    kill.killer = "systemd-oomd";
    kill.source = "journal";
    kill.victimSeen = false;
    if (m.now > 0) kill.realtimeNs = m.now * 1000;
    out.oomKills.push_back(std::move(kill));
    return true;
  }
  if (m.messageId == kIdUnitOutOfMemory ||
      startsWith(m.text, "A process of this unit has been killed by the OOM")) {
    touch(m).failure.oomKilled = true;
    return true;
  }
  return false;
}

bool UnitFailureAssembler::takeCleanEnd(const UnitMessage& m) {
  if (!startsWith(m.text, "Deactivated successfully") && !startsWith(m.text, "Succeeded."))
    return false;
  // A clean end: nothing held for this invocation is a failure any more (unless it already
  // failed).
  auto it = invocations_.find(m.key);
  if (it != invocations_.end() && !it->second.failed) forget(it);
  return true;
}

void fillUnitFailed(schema::UnitFailed::Builder b, const UnitFailure& f) {
  b.setUnit(f.unit);
  b.setResult(f.result);
  b.setExitStatus(f.exitStatus);
  b.setSignal(f.signal);
  b.setRestarts(f.restarts);
  b.setInvocationId(f.invocationId);
  b.setOomKilled(f.oomKilled);
  auto lines = b.initLastLines(static_cast<unsigned>(f.lastLines.size()));
  for (unsigned i = 0; i < f.lastLines.size(); ++i) lines.set(i, f.lastLines[i]);
  b.setPid(f.pid);
  b.setMessage(f.message);
  b.setAtStart(f.atStart);
}

}  // namespace octolaunch::parse
