// Redaction throughput on a realistic mix of hook output (log lines, digests, UUIDs, paths,
// URLs; about 1 line in 20 holding a secret of one of the known families), one stream's state
// across all lines, as the hook wrapper redacts.
//   redact_bench [lines=200000] [passes=5]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/redact/redactor.h"
#include "tests/support/planted_secrets.h"

using namespace octolaunch;

int main(int argc, char** argv) {
  const long lines = argc > 1 ? std::atol(argv[1]) : 200000;
  const int passes = argc > 2 ? std::atoi(argv[2]) : 5;
  if (lines <= 0 || passes <= 0) {
    std::fprintf(stderr, "usage: redact_bench [lines] [passes]\n");
    return 2;
  }
  testing::SecretPlanter planter(42);
  const std::vector<std::string> mix = planter.mix(static_cast<std::size_t>(lines));
  std::size_t bytes = 0;
  for (const auto& l : mix) bytes += l.size() + 1;

  agent::Redactor redactor;
  std::string scratch;
  double best = 0;
  std::size_t masked = 0;
  for (int p = 0; p < passes; ++p) {
    agent::RedactState state;
    masked = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& line : mix) {
      scratch.assign(line);  // the hook redacts its own copy of each line the same way
      if (redactor.redact(scratch, state)) ++masked;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = static_cast<double>(mix.size()) / seconds;
    if (rate > best) best = rate;
  }
  if (masked == 0) {
    std::fprintf(stderr, "nothing was masked: the mix holds no secrets\n");
    return 1;
  }
  std::printf(
      "redaction: %zu lines (%.1f bytes/line, %zu masked), best of %d passes: %.0f lines/s, "
      "%.1f MB/s\n",
      mix.size(), static_cast<double>(bytes) / static_cast<double>(mix.size()), masked, passes,
      best, best * static_cast<double>(bytes) / static_cast<double>(mix.size()) / 1e6);
  return 0;
}
