#include "collector/http/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace octolaunch::http {

namespace {

std::optional<std::string> readFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ProcStat> parseProcStat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields from the third on (state), split on spaces; the trailing newline ends the last.
  std::vector<std::string_view> fields;
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  // proc(5) numbers fields from 1: utime 14, stime 15, starttime 22, vsize 23, rss 24. Here
  // fields[0] is field 3.
  auto field = [&fields](std::size_t n) -> std::optional<std::uint64_t> {
    if (n - 3 >= fields.size()) return std::nullopt;
    return number(fields[n - 3]);
  };
  auto utime = field(14);
  auto stime = field(15);
  auto start = field(22);
  auto vsize = field(23);
  auto rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  return ProcStat{*utime, *stime, *start, *vsize, *rss};
}

std::optional<std::uint64_t> parseBootTime(std::string_view procStat) {
  constexpr std::string_view kKey = "btime ";
  std::size_t at = 0;
  while (at < procStat.size()) {
    std::size_t end = procStat.find('\n', at);
    if (end == std::string_view::npos) end = procStat.size();
    const std::string_view line = procStat.substr(at, end - at);
    if (line.substr(0, kKey.size()) == kKey) return number(line.substr(kKey.size()));
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<ProcessSample> sampleProcess() {
  const auto self = readFile("/proc/self/stat");
  const auto system = readFile("/proc/stat");
  if (!self || !system) return std::nullopt;
  const auto stat = parseProcStat(*self);
  const auto boot = parseBootTime(*system);
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (!stat || !boot || ticks <= 0 || page <= 0) return std::nullopt;
  const auto perSecond = static_cast<double>(ticks);
  return ProcessSample{
      static_cast<double>(stat->utimeTicks + stat->stimeTicks) / perSecond,
      stat->residentPages * static_cast<std::uint64_t>(page), stat->virtualBytes,
      static_cast<double>(*boot) + static_cast<double>(stat->startTicks) / perSecond};
}

std::optional<std::uint64_t> countOpenFds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return std::nullopt;
  std::uint64_t n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n > 0 ? n - 1 : 0;  // less the descriptor of the listing itself
}

std::optional<std::uint64_t> maxFds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace octolaunch::http
