// /proc/pressure/{memory,io,cpu} (and cgroup v2 *.pressure) files:
//   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
// Pure; never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::parse {

enum class PsiResource { unknown, memory, cpu, io };

struct PsiSample {
  PsiResource resource = PsiResource::unknown;
  std::string line;                         // "some" or "full"
  double avg10 = 0, avg60 = 0, avg300 = 0;  // percent
  std::uint64_t totalUs = 0;                // total stall time, microseconds
};

struct PsiParse {
  std::vector<PsiSample> samples;
  std::size_t skipped = 0;  // lines not understood
};

PsiParse parsePsi(std::string_view text, PsiResource resource = PsiResource::unknown);

// "/proc/pressure/memory" or "memory.pressure" -> memory; unknown otherwise.
PsiResource psiResourceFromPath(std::string_view path);
const char* psiResourceName(PsiResource resource);  // "memory", "cpu", "io", "unknown"

}  // namespace octolaunch::parse
