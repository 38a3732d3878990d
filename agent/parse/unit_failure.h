// systemd unit failures from the journal: UnitFailureAssembler joins the messages systemd (PID 1),
// the unit's forked child (spawn failures), systemd-coredump and systemd-oomd log about one unit
// invocation into one UnitFailure:
//   "Main process exited, code=exited, status=1/FAILURE"  (MESSAGE_ID 98e322203f7a4ed290d09fe03c09fe15,
//                                                          EXIT_CODE=, EXIT_STATUS=)
//   "Failed with result 'X'."                            (MESSAGE_ID d9b373ed55a64feb8242e02dbe79a49c,
//                                                          UNIT_RESULT=) -> completes the failure
//   "Start request repeated too quickly.", "start operation timed out. Terminating.",
//   "Watchdog timeout (limit ...)!", "Failed to execute ...", "Failed at step EXEC spawning ...",
//   "Scheduled restart job, restart counter is at N.", "Process N (x) of user U dumped core.",
//   "systemd-oomd killed N process(es) in this unit.", "A process of this unit has been killed by the
//   OOM killer.", older systemd's "Unit X entered failed state." / "X: main process exited, ...".
// Joined per INVOCATION_ID, or per unit where older systemd logs none. The unit's own log lines
// (entries with _SYSTEMD_UNIT=unit) feed last_lines. Thread: not thread-safe; never throws.
#pragma once

#include "agent/parse/journal_entry.h"
#include "agent/parse/oom_kill.h"
#include "octolaunch/schema/event.capnp.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace octolaunch::parse {

struct UnitFailure {
  std::string unit;
  std::string result;          // systemd's word; "start-limit" normalised to "start-limit-hit"
  std::int32_t exitStatus = -1;  // for code=exited
  std::string signal;          // "KILL", "SEGV", ... for code=killed|dumped
  std::uint32_t restarts = 0;  // systemd's restart counter when this invocation failed
  std::string invocationId;
  bool oomKilled = false;      // journal said so (cgroup v2 / oomd); the live source may also set it
  std::vector<std::string> lastLines;  // the unit's own last log lines, oldest first (not redacted)
  std::int32_t pid = 0;        // main pid (from the exit message / core dump)
  std::string message;         // the most telling systemd line (spawn error, timeout, watchdog, ...)
  std::int64_t realtimeUsec = 0;  // journal time of the completing entry
  std::string host;            // _HOSTNAME
};

class UnitFailureAssembler final {
 public:
  struct Options {
    std::size_t lastLines = 10;        // per unit
    std::size_t maxUnits = 4096;       // state kept for at most this many units / invocations
  };
  struct Output {
    std::vector<UnitFailure> failures;
    std::vector<OomKill> oomKills;     // systemd-oomd kills (killer "systemd-oomd", source "journal")
    bool empty() const { return failures.empty() && oomKills.empty(); }
  };

  UnitFailureAssembler();
  explicit UnitFailureAssembler(Options options);

  // Feeds one entry in journal order; returns what it completes.
  Output feed(const JournalEntry& entry);
  // End of input: failures that never got a "Failed with result" line but are clearly failed
  // (older systemd: exit message without a result line) are returned.
  Output finish();
  // Entries that took part in a failure or in a unit's last lines, so far.
  std::uint64_t recognisedEntries() const { return recognised_; }

 private:
  struct Invocation {
    UnitFailure failure;
    bool exited = false;             // a "Main process exited" with a failing code was seen
    bool complete = false;
  };
  Invocation& invocation(const std::string& key, const std::string& unit);
  UnitFailure complete(const std::string& key, Invocation& inv, std::string result);
  void pushLine(const std::string& unit, std::string line);
  void bound();

  Options options_;
  std::unordered_map<std::string, Invocation> invocations_;   // key: INVOCATION_ID or "unit:"+unit
  std::deque<std::string> invocationOrder_;
  std::unordered_map<std::string, std::deque<std::string>> lines_;  // unit -> last lines
  std::unordered_map<std::string, std::uint32_t> restarts_;        // unit -> restart counter
  std::uint64_t recognised_ = 0;
};

// "start-limit" -> "start-limit-hit"; other words unchanged.
std::string normaliseUnitResult(std::string_view result);

// Fills a unit.failed payload.
void fillUnitFailed(schema::UnitFailed::Builder builder, const UnitFailure& failure);

}  // namespace octolaunch::parse
