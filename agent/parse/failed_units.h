// The units that are failed now, from one boot's journal read from its start: for each unit, its
// last failure (UnitFailureAssembler) unless a later job started it successfully (systemd's "unit
// started" message, MESSAGE_ID 39f53479d3a045ac8e11786248231fbf, with JOB_RESULT=done: "Started
// x" / "Finished x"). Pure, like the assembler: no I/O; never throws on any entry.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/parse/journal_entry.h"
#include "agent/parse/unit_failure.h"

namespace octolaunch::parse {

class FailedUnits final {
 public:
  explicit FailedUnits(UnitFailureAssembler::Options options = {});

  // Feeds one entry in journal order.
  void feed(const JournalEntry& entry);
  // End of input: the units whose last failure no successful start followed, oldest failure
  // first, each with atStart set.
  std::vector<UnitFailure> finish();

 private:
  void take(UnitFailureAssembler::Output output);

  UnitFailureAssembler assembler_;
  std::map<std::string, UnitFailure> lastFailure_;     // unit -> its last failure
  std::map<std::string, std::int64_t> lastStartUsec_;  // unit -> journal time of its last start
};

}  // namespace octolaunch::parse
