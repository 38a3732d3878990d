#include "agent/parse/unit_failure.h"

namespace octolaunch::parse {

UnitFailureAssembler::UnitFailureAssembler() : UnitFailureAssembler(Options{}) {}
UnitFailureAssembler::UnitFailureAssembler(Options options) : options_(options) {}
UnitFailureAssembler::Output UnitFailureAssembler::feed(const JournalEntry&) { return {}; }
UnitFailureAssembler::Output UnitFailureAssembler::finish() { return {}; }
std::string normaliseUnitResult(std::string_view result) {
  return result == "start-limit" ? "start-limit-hit" : std::string(result);
}
void fillUnitFailed(schema::UnitFailed::Builder, const UnitFailure&) {}

}  // namespace octolaunch::parse
