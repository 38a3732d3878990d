#include "agent/parse/earlyoom.h"

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

// Reads the decimal number at the front of s and drops it; nullopt when there is none.
std::optional<std::uint64_t> takeNumber(std::string_view& s) {
  const std::size_t n = leadingDigitCount(s);
  auto value = parseU64(s.substr(0, n));
  if (value) s.remove_prefix(n);
  return value;
}

bool takePrefix(std::string_view& s, std::string_view prefix) {
  if (!startsWith(s, prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// "NAME" (earlyoom quotes the comm; a comm holds no quote).
std::optional<std::string> takeQuoted(std::string_view& s) {
  if (!takePrefix(s, "\"")) return std::nullopt;
  auto end = s.find('"');
  if (end == std::string_view::npos) return std::nullopt;
  std::string name = sanitizeUtf8(s.substr(0, end));
  s.remove_prefix(end + 1);
  return name;
}

// ": badness 1661, VmRSS 1032 MiB" or ": oom_score 1170, VmRSS 43912 MiB, cmdline ..."
bool takeScoreAndRss(std::string_view& s, OomKill& kill) {
  if (!takePrefix(s, ": badness ") && !takePrefix(s, ": oom_score ")) return false;
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);  // badness may be negative
  if (!takeNumber(s)) return false;
  if (!takePrefix(s, ", VmRSS ")) return false;
  auto mib = takeNumber(s);
  if (!mib || !takePrefix(s, " MiB")) return false;
  if (*mib <= UINT64_MAX / 1024) kill.anonRssKb = *mib * 1024;
  return true;
}

bool toPid(std::optional<std::uint64_t> v, std::int32_t& out) {
  if (!v || *v == 0 || *v > 0x7fffffff) return false;
  out = static_cast<std::int32_t>(*v);
  return true;
}

}  // namespace

std::optional<OomKill> parseEarlyoomKill(std::string_view s) {
  OomKill kill;
  kill.killer = "earlyoom";
  kill.source = "journal";
  kill.victimSeen = true;
  if (takePrefix(s, "sending SIGTERM to process ") ||
      takePrefix(s, "sending SIGKILL to process ")) {
    if (!toPid(takeNumber(s), kill.pid)) return std::nullopt;
    if (takePrefix(s, " uid ")) {
      auto uid = takeNumber(s);
      if (!uid || *uid > 0x7fffffff) return std::nullopt;
      kill.uid = static_cast<std::int32_t>(*uid);
    }
    if (!takePrefix(s, " ")) return std::nullopt;
    auto name = takeQuoted(s);
    if (!name) return std::nullopt;
    kill.process = std::move(*name);
  } else if (takePrefix(s, "killing process ")) {
    if (!toPid(takeNumber(s), kill.pid) || !takePrefix(s, " ")) return std::nullopt;
    auto name = takeQuoted(s);
    if (!name) return std::nullopt;
    kill.process = std::move(*name);
    if (!takePrefix(s, " with signal ") || !takeNumber(s)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!takeScoreAndRss(s, kill)) return std::nullopt;
  return kill;
}

bool isEarlyoomEntry(std::string_view syslogIdentifier, std::string_view comm) {
  return syslogIdentifier == "earlyoom" || (syslogIdentifier.empty() && comm == "earlyoom");
}

}  // namespace octolaunch::parse
