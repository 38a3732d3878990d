#include "agent/parse/failed_units.h"

#include <algorithm>

namespace octolaunch::parse {

namespace {
constexpr std::string_view kUnitStarted = "39f53479d3a045ac8e11786248231fbf";
}  // namespace

FailedUnits::FailedUnits(UnitFailureAssembler::Options options) : assembler_(options) {}

void FailedUnits::feed(const JournalEntry& entry) {
  take(assembler_.feed(entry));
  if (entry.value("MESSAGE_ID") == kUnitStarted && entry.value("JOB_RESULT") == "done") {
    const std::string unit(entry.value("UNIT"));
    if (!unit.empty()) lastStartUsec_[unit] = entry.realtimeUsec();
  }
}

void FailedUnits::take(UnitFailureAssembler::Output output) {
  // A failure completes a moment after its result line (the assembler's hold), possibly after a
  // restart's start entry: which came last is decided by journal time, in finish().
  for (auto& failure : output.failures) lastFailure_[failure.unit] = std::move(failure);
}

std::vector<UnitFailure> FailedUnits::finish() {
  take(assembler_.finish());
  std::vector<UnitFailure> out;
  for (auto& [unit, failure] : lastFailure_) {
    auto started = lastStartUsec_.find(unit);
    if (started != lastStartUsec_.end() && started->second > failure.realtimeUsec) continue;
    failure.atStart = true;
    out.push_back(std::move(failure));
  }
  std::stable_sort(out.begin(), out.end(), [](const UnitFailure& a, const UnitFailure& b) {
    return a.realtimeUsec < b.realtimeUsec;
  });
  lastFailure_.clear();
  return out;
}

}  // namespace octolaunch::parse
