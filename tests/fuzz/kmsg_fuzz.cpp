// Kernel log text in any shape -> KernelMessage -> OomAssembler (and the cgroup mapping).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/parse/cgroup_path.h"
#include "agent/parse/kernel_message.h"
#include "agent/parse/oom_kill.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::parse;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parseKmsgRecord(text);
  (void)unitFromCgroup(text);
  (void)containerIdFromCgroup(text);
  (void)parseOomReaped(text);
  std::size_t skipped = 0;
  OomAssembler assembler(OomAssembler::Options{1'000'000});
  std::uint64_t last = 0;
  for (const auto& m : parseKernelLog(text, &skipped)) {
    for (const auto& k : assembler.feed(m)) fuzz::checkOomKill(k);
    if (m.monoUsec) last = *m.monoUsec;
  }
  for (const auto& k : assembler.expire(last + 500'000)) fuzz::checkOomKill(k);
  for (const auto& k : assembler.finish()) fuzz::checkOomKill(k);
  return 0;
}
