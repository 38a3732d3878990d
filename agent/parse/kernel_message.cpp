#include "agent/parse/kernel_message.h"

#include <array>

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Wall-clock stamps beyond this year are not taken as times (nanoseconds since 1970 stay far from
// the int64 limit, which is in 2262).
constexpr unsigned kMaxYear = 2200;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int monthIndex(std::string_view s) {
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == s) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Reads exactly n digits at s[pos...]; advances pos.
std::optional<unsigned> digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!isDigit(s[pos + i])) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(s[pos + i] - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// "HH:MM:SS" -> seconds of day.
std::optional<std::int64_t> clock(std::string_view s, std::size_t& pos) {
  auto h = digits(s, pos, 2);
  if (!h || !expect(s, pos, ':')) return std::nullopt;
  auto m = digits(s, pos, 2);
  if (!m || !expect(s, pos, ':')) return std::nullopt;
  auto sec = digits(s, pos, 2);
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return static_cast<std::int64_t>(*h) * 3600 + *m * 60 + *sec;
}

// Optional ".123456" or ",123456" -> nanoseconds.
std::int64_t fraction(std::string_view s, std::size_t& pos) {
  if (pos >= s.size() || (s[pos] != '.' && s[pos] != ',')) return 0;
  std::size_t p = pos + 1;
  std::int64_t ns = 0;
  int n = 0;
  while (p < s.size() && isDigit(s[p])) {
    if (n < 9) {
      ns = ns * 10 + (s[p] - '0');
      ++n;
    }
    ++p;
  }
  if (p == pos + 1) return 0;
  for (; n < 9; ++n) ns *= 10;
  pos = p;
  return ns;
}

// "2026-11-28T06:12:34[.frac][Z|+hh:mm|+hhmm]" followed by a space (or the end). Advances pos past
// it.
std::optional<std::int64_t> isoTimestamp(std::string_view s, std::size_t& pos) {
  std::size_t p = pos;
  auto y = digits(s, p, 4);
  if (!y || !expect(s, p, '-')) return std::nullopt;
  auto mo = digits(s, p, 2);
  if (!mo || !expect(s, p, '-')) return std::nullopt;
  auto d = digits(s, p, 2);
  if (!d || (!expect(s, p, 'T') && !expect(s, p, ' '))) return std::nullopt;
  auto secs = clock(s, p);
  if (!secs || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *y < 1970 || *y > kMaxYear)
    return std::nullopt;
  std::int64_t ns = fraction(s, p);
  std::int64_t offset = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    auto oh = digits(s, p, 2);
    if (!oh) return std::nullopt;
    expect(s, p, ':');
    auto om = digits(s, p, 2);
    if (!om) return std::nullopt;
    offset = sign * (static_cast<std::int64_t>(*oh) * 3600 + *om * 60);
  }
  if (p < s.size() && s[p] != ' ') return std::nullopt;
  pos = p;
  std::int64_t days = daysFromCivil(*y, *mo, *d);
  return ((days * 86400 + *secs) - offset) * 1'000'000'000 + ns;
}

// "[  12.345678]" -> microseconds. Advances pos past "]".
std::optional<std::uint64_t> monotonicBracket(std::string_view s, std::size_t& pos) {
  std::size_t p = pos;
  if (!expect(s, p, '[')) return std::nullopt;
  while (p < s.size() && s[p] == ' ') ++p;
  std::size_t start = p;
  while (p < s.size() && isDigit(s[p])) ++p;
  if (p == start || p - start > 12 || !expect(s, p, '.')) return std::nullopt;
  auto sec = parseU64(s.substr(start, p - 1 - start));
  std::size_t fs = p;
  while (p < s.size() && isDigit(s[p])) ++p;
  if (p == fs || p - fs > 9 || !expect(s, p, ']')) return std::nullopt;
  std::string_view frac = s.substr(fs, p - 1 - fs);
  std::uint64_t usec = 0;
  for (std::size_t i = 0; i < 6; ++i)
    usec = usec * 10 + (i < frac.size() ? static_cast<unsigned>(frac[i] - '0') : 0);
  pos = p;
  return *sec * 1'000'000 + usec;
}

// "[Sat Nov 28 06:12:34 2026]" (dmesg -T; the machine's local time, read as UTC) -> ns.
std::optional<std::int64_t> dmesgTBracket(std::string_view s, std::size_t& pos) {
  std::size_t p = pos;
  if (!expect(s, p, '[')) return std::nullopt;
  if (p + 4 > s.size() || s[p + 3] != ' ') return std::nullopt;  // weekday
  p += 4;
  if (p + 4 > s.size()) return std::nullopt;
  int mo = monthIndex(s.substr(p, 3));
  if (mo == 0 || s[p + 3] != ' ') return std::nullopt;
  p += 4;
  while (p < s.size() && s[p] == ' ') ++p;
  std::size_t ds = p;
  while (p < s.size() && isDigit(s[p])) ++p;
  if (p == ds || p - ds > 2) return std::nullopt;
  unsigned day = static_cast<unsigned>(*parseU64(s.substr(ds, p - ds)));
  if (!expect(s, p, ' ')) return std::nullopt;
  auto secs = clock(s, p);
  if (!secs || !expect(s, p, ' ')) return std::nullopt;
  auto y = digits(s, p, 4);
  if (!y || !expect(s, p, ']') || day < 1 || day > 31 || *y < 1970 || *y > kMaxYear)
    return std::nullopt;
  pos = p;
  return (daysFromCivil(*y, static_cast<unsigned>(mo), day) * 86400 + *secs) * 1'000'000'000;
}

// "[ T1234]" / "[ C1]" (CONFIG_PRINTK_CALLER). Advances pos past it and one following space.
void skipCaller(std::string_view s, std::size_t& pos) {
  std::size_t p = pos;
  while (p < s.size() && s[p] == ' ') ++p;
  if (!expect(s, p, '[')) return;
  while (p < s.size() && s[p] == ' ') ++p;
  if (p >= s.size() || (s[p] != 'T' && s[p] != 'C')) return;
  ++p;
  std::size_t ds = p;
  while (p < s.size() && isDigit(s[p])) ++p;
  if (p == ds || !expect(s, p, ']')) return;
  pos = p;
}

enum class Program { none, kernel, other };

// "host kernel: " / "host prog[123]: " at pos. On kernel/other, pos is moved past it.
Program hostProgram(std::string_view s, std::size_t& pos, std::string& host) {
  std::size_t p = pos;
  std::size_t hs = p;
  while (p < s.size() && s[p] != ' ' && s[p] != ':' && s[p] != '[') ++p;
  if (p == hs || p >= s.size() || s[p] != ' ') return Program::none;
  std::string_view h = s.substr(hs, p - hs);
  ++p;
  std::size_t ps = p;
  while (p < s.size() && s[p] != ' ' && s[p] != ':' && s[p] != '[') ++p;
  if (p == ps || p >= s.size()) return Program::none;
  std::string_view prog = s.substr(ps, p - ps);
  if (s[p] == '[') {
    std::size_t q = p + 1;
    while (q < s.size() && isDigit(s[q])) ++q;
    if (q == p + 1 || q >= s.size() || s[q] != ']') return Program::none;
    p = q + 1;
  }
  if (p >= s.size() || s[p] != ':') return Program::none;
  ++p;
  if (p < s.size() && s[p] == ' ') ++p;
  host = std::string(h);
  pos = p;
  return prog == "kernel" ? Program::kernel : Program::other;
}

constexpr std::array<std::string_view, 20> kFacilities = {
    "kern",   "user",   "mail",   "daemon",   "auth",   "syslog", "lpr",
    "news",   "uucp",   "cron",   "authpriv", "ftp",    "local0", "local1",
    "local2", "local3", "local4", "local5",   "local6", "local7"};
constexpr std::array<std::string_view, 8> kLevels = {"emerg", "alert",  "crit", "err",
                                                     "warn",  "notice", "info", "debug"};

// dmesg -x: "kern  :err   : ". Advances pos.
void decodedPriority(std::string_view s, std::size_t& pos, KernelMessage& m) {
  std::size_t p = pos;
  std::size_t ws = p;
  while (p < s.size() && s[p] >= 'a' && s[p] <= 'z') ++p;
  while (p < s.size() && isDigit(s[p])) ++p;
  std::string_view fac = s.substr(ws, p - ws);
  int facility = -1;
  for (std::size_t i = 0; i < kFacilities.size(); ++i) {
    if (kFacilities[i] == fac) facility = static_cast<int>(i < 12 ? i : i + 4);
  }
  if (facility < 0) return;
  while (p < s.size() && s[p] == ' ') ++p;
  if (!expect(s, p, ':')) return;
  std::size_t ls = p;
  while (p < s.size() && s[p] >= 'a' && s[p] <= 'z') ++p;
  std::string_view lvl = s.substr(ls, p - ls);
  int level = -1;
  for (std::size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] == lvl) level = static_cast<int>(i);
  }
  if (level < 0) return;
  while (p < s.size() && s[p] == ' ') ++p;
  if (!expect(s, p, ':')) return;
  if (p < s.size() && s[p] == ' ') ++p;
  m.facility = facility;
  m.level = level;
  pos = p;
}

// "<6>" (dmesg -r). Advances pos.
void rawPriority(std::string_view s, std::size_t& pos, KernelMessage& m) {
  std::size_t p = pos;
  if (!expect(s, p, '<')) return;
  std::size_t ds = p;
  while (p < s.size() && isDigit(s[p])) ++p;
  if (p == ds || p - ds > 4 || !expect(s, p, '>')) return;
  auto pri = parseU64(s.substr(ds, p - 1 - ds));
  m.level = static_cast<int>(*pri & 7);
  m.facility = static_cast<int>(*pri >> 3);
  pos = p;
}

bool looksLikeKmsgHeader(std::string_view line) {
  // PRI,SEQ,USEC,FLAGS...;
  auto semi = line.find(';');
  if (semi == std::string_view::npos) return false;
  std::string_view h = line.substr(0, semi);
  int commas = 0;
  for (char c : h) {
    if (c == ',') {
      ++commas;
    } else if (commas < 3 && !isDigit(c)) {
      return false;
    }
  }
  return commas >= 3 && !h.empty() && isDigit(h.front());
}

}  // namespace

std::string unescapeKmsg(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
      int hi = hexValue(text[i + 2]);
      int lo = hexValue(text[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

bool isKmsgContinuationLine(std::string_view line) { return !line.empty() && line.front() == ' '; }

std::optional<KernelMessage> parseKmsgRecord(std::string_view record) {
  auto semi = record.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view header = record.substr(0, semi);
  std::array<std::string_view, 4> parts;
  std::size_t n = 0;
  while (n < 4) {
    auto comma = header.find(',');
    parts[n++] = header.substr(0, comma);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (n < 3) return std::nullopt;
  auto pri = parseU64(parts[0]);
  auto seq = parseU64(parts[1]);
  auto usec = parseU64(parts[2]);
  if (!pri || !seq || !usec || *pri > 0xffffff) return std::nullopt;
  KernelMessage m;
  m.level = static_cast<int>(*pri & 7);
  m.facility = static_cast<int>(*pri >> 3);
  m.seq = *seq;
  m.monoUsec = *usec;
  m.continuation = n >= 4 && !parts[3].empty() && parts[3].front() == 'c';
  std::string_view rest = record.substr(semi + 1);
  auto nl = rest.find('\n');
  m.text = unescapeKmsg(rest.substr(0, nl));
  while (nl != std::string_view::npos) {
    rest.remove_prefix(nl + 1);
    nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!isKmsgContinuationLine(line)) continue;
    line.remove_prefix(1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    m.dict.emplace_back(std::string(line.substr(0, eq)), unescapeKmsg(line.substr(eq + 1)));
  }
  return m;
}

std::optional<KernelMessage> parseKernelLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (trim(line).empty()) return std::nullopt;
  if (startsWith(line, "-- ") &&
      (line.find("Boot") != std::string_view::npos ||
       line.find("Logs begin") != std::string_view::npos ||
       line.find("Journal begins") != std::string_view::npos ||
       line.find("No entries") != std::string_view::npos || endsWith(line, " --"))) {
    return std::nullopt;
  }
  if (looksLikeKmsgHeader(line)) {
    if (auto m = parseKmsgRecord(line)) return m;
  }
  KernelMessage m;
  std::size_t pos = 0;
  rawPriority(line, pos, m);
  decodedPriority(line, pos, m);
  bool stamped = false;
  // Whether a "host program: " may follow the stamp, and whether a non-kernel program means the
  // line is not a kernel message (syslog, journalctl short/short-iso) or is just message text
  // (dmesg, whose messages often look like "usb 1-1: ...").
  bool otherProgramDrops = false;
  if (auto iso = isoTimestamp(line, pos)) {
    m.realtimeNs = *iso;
    stamped = true;
    // dmesg --time-format=iso writes "2026-11-28T06:12:34,123456+00:00"; journalctl short-iso uses
    // '.'.
    otherProgramDrops = line.substr(0, pos).find(',') == std::string_view::npos;
  } else if (auto mono = monotonicBracket(line, pos)) {
    m.monoUsec = *mono;
    stamped = true;
  } else if (auto wall = dmesgTBracket(line, pos)) {
    m.realtimeNs = *wall;
    stamped = true;
  } else if (line.size() >= pos + 15 && monthIndex(line.substr(pos, 3)) != 0 &&
             line[pos + 3] == ' ') {
    // Syslog "Nov 28 06:12:34[.123456] " (no year: realtimeNs stays empty).
    std::size_t p = pos + 4;
    if (p < line.size() && line[p] == ' ') ++p;
    std::size_t ds = p;
    while (p < line.size() && isDigit(line[p])) ++p;
    if (p > ds && p - ds <= 2 && expect(line, p, ' ') && clock(line, p)) {
      fraction(line, p);
      if (p < line.size() && line[p] == ' ') {
        pos = p;
        stamped = true;
        otherProgramDrops = true;
      }
    }
  }
  if (stamped) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    std::size_t before = pos;
    std::string host;
    Program prog = hostProgram(line, pos, host);
    if (prog == Program::other && otherProgramDrops) return std::nullopt;
    if (prog == Program::kernel) {
      m.host = std::move(host);
    } else {
      pos = before;
    }
    // rsyslog/journal lines may still carry the kernel's own "[  12.345678] ".
    if (!m.monoUsec) {
      std::size_t p = pos;
      if (auto mono = monotonicBracket(line, p)) {
        m.monoUsec = *mono;
        pos = p;
        while (pos < line.size() && line[pos] == ' ') ++pos;
      }
    }
    skipCaller(line, pos);
    while (pos < line.size() && line[pos] == ' ') ++pos;
  }
  // "kernel: <message>" with no stamp (journalctl -o cat of syslog, log excerpts).
  if (!stamped && startsWith(line.substr(pos), "kernel: ")) pos += 8;
  m.text = std::string(line.substr(pos));
  if (m.text.empty()) return std::nullopt;
  return m;
}

std::vector<KernelMessage> parseKernelLog(std::string_view text, std::size_t* skipped) {
  std::vector<KernelMessage> out;
  auto lines = splitLines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::optional<KernelMessage> message;
    if (!isKmsgContinuationLine(line) && looksLikeKmsgHeader(line)) {
      std::string record(line);
      while (i + 1 < lines.size() && isKmsgContinuationLine(lines[i + 1])) {
        record += '\n';
        record += lines[++i];
      }
      message = parseKmsgRecord(record);
      if (!message) message = parseKernelLine(line);
    } else {
      message = parseKernelLine(line);
    }
    if (message) {
      out.push_back(std::move(*message));
    } else if (skipped && !trim(line).empty()) {
      ++*skipped;
    }
  }
  return out;
}

}  // namespace octolaunch::parse
