// `journalctl -o json` lines -> JournalEntry -> UnitFailureAssembler (with the kernel OOM join).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/parse/journal_entry.h"
#include "agent/parse/text_util.h"
#include "agent/parse/unit_failure.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::parse;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  UnitFailureAssembler::Options options;
  options.maxUnits = 8;  // small, so the bounding paths run too
  options.lastLines = 3;
  UnitFailureAssembler assembler(options);
  auto check = [](const UnitFailureAssembler::Output& out) {
    for (const auto& f : out.failures) fuzz::checkUnitFailure(f);
    for (const auto& k : out.oomKills) fuzz::checkOomKill(k);
  };
  std::int64_t last = 0;
  for (auto line : splitLines(text)) {
    auto entry = parseJournalJson(line);
    if (!entry) continue;
    check(assembler.feed(*entry));
    last = entry->realtimeUsec();
  }
  check(assembler.expire(last + 2'000'000));
  check(assembler.finish());
  return 0;
}
