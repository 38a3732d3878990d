// The standard process_* metrics of this process, read from /proc (Linux).
//
// Each read returns nullopt when /proc does not answer as expected (no /proc mounted, a format
// this code does not know): /metrics then leaves the families out rather than report zeros.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace octolaunch::http {

struct ProcessSample {
  double cpuSeconds = 0;  // user + system
  std::uint64_t residentBytes = 0;
  std::uint64_t virtualBytes = 0;
  double startTimeSeconds = 0;  // since the Unix epoch
};

// The fields of /proc/PID/stat used here, in the kernel's units.
struct ProcStat {
  std::uint64_t utimeTicks = 0;
  std::uint64_t stimeTicks = 0;
  std::uint64_t startTicks = 0;  // after boot
  std::uint64_t virtualBytes = 0;
  std::uint64_t residentPages = 0;
};

// Parses the text of /proc/PID/stat (the command name in parentheses may hold spaces and
// parentheses: fields are counted after the last ')'); nullopt when it is not that.
std::optional<ProcStat> parseProcStat(std::string_view text);
// The btime line of /proc/stat (seconds since the epoch at boot); nullopt when there is none.
std::optional<std::uint64_t> parseBootTime(std::string_view procStat);

std::optional<ProcessSample> sampleProcess();
std::optional<std::uint64_t> countOpenFds();  // entries of /proc/self/fd
std::optional<std::uint64_t> maxFds();        // RLIMIT_NOFILE's soft limit

}  // namespace octolaunch::http
