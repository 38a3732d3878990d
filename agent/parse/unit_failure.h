// systemd unit failures from the journal: UnitFailureAssembler joins the messages systemd (PID 1),
// the unit's forked child (spawn failures), systemd-coredump and systemd-oomd log about one unit
// invocation into one UnitFailure:
//   "Main process exited, code=exited, status=1/FAILURE"
//       MESSAGE_ID 98e322203f7a4ed290d09fe03c09fe15, EXIT_CODE=, EXIT_STATUS=
//   "Failed with result 'X'."
//       MESSAGE_ID d9b373ed55a64feb8242e02dbe79a49c, UNIT_RESULT=; completes the failure
//   "Start request repeated too quickly.", "start operation timed out. Terminating.",
//   "Watchdog timeout (limit ...)!", "Failed to execute ...", "Failed at step EXEC spawning ...",
//   "Scheduled restart job, restart counter is at N.", "Process N (x) of user U dumped core.",
//   "systemd-oomd killed N process(es) in this unit.", "A process of this unit has been killed by
//   the OOM killer.", older systemd's "Unit X entered failed state." and "X: main process
//   exited, ...".
// Joined per INVOCATION_ID, or per unit where older systemd logs none. The unit's own log lines
// (entries with _SYSTEMD_UNIT=unit) feed last_lines. Thread: not thread-safe; never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/parse/journal_entry.h"
#include "agent/parse/oom_kill.h"
#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::parse {

struct UnitFailure {
  std::string unit;
  std::string result;            // systemd's word; "start-limit" normalised to "start-limit-hit"
  std::int32_t exitStatus = -1;  // for code=exited
  std::string signal;            // "KILL", "SEGV", ... for code=killed|dumped
  // systemd's restart counter: the N of the "Scheduled restart job, restart counter is at N" this
  // failure caused, else the unit's last counter.
  std::uint32_t restarts = 0;
  std::string invocationId;
  bool oomKilled = false;  // result oom-kill, an oomd / cgroup-v2 OOM line, or a kernel OOM kill in
                           // the unit's cgroup in the same journal (oomJoinUsec); the live source
                           // may also set it from /dev/kmsg
  std::vector<std::string> lastLines;  // the unit's own last log lines, oldest first (not redacted)
  std::int32_t pid = 0;  // the dumped process (systemd-coredump's COREDUMP_PID), else 0
  std::string message;   // the most telling systemd line: spawn error, timeout, watchdog, start
                         // limit, oomd kill, core dump; else "Main process exited, ..."
  std::int64_t realtimeUsec = 0;  // journal time of the completing entry
  std::string host;               // _HOSTNAME
  bool atStart = false;           // found failed when the agent started (see failed_units.h)
};

class UnitFailureAssembler final {
 public:
  struct Options {
    std::size_t lastLines = 10;   // per failure
    std::size_t maxUnits = 4096;  // state kept for at most this many invocations / units
    // A failed invocation is held this long (journal time) after its "Failed with result" line so
    // that what systemd logs right after it (restart counter, start limit, core dump, the kernel's
    // OOM lines) joins it; "Failed to start", a new invocation of the unit, expire() and finish()
    // end the hold earlier.
    std::int64_t holdUsec = 1'000'000;
    // A kernel OOM kill in the unit's cgroup this close (journal time) to the failure marks it
    // oom_killed.
    std::int64_t oomJoinUsec = 10'000'000;
    // Report the kernel's OOM kills found in _TRANSPORT=kernel entries as Output::oomKills. A live
    // source that also reads /dev/kmsg turns this off (the kills still mark unit failures
    // oom_killed).
    bool kernelOomKills = true;
  };
  struct Output {
    std::vector<UnitFailure> failures;
    // Kernel OOM kills from _TRANSPORT=kernel entries (killer "kernel"), systemd-oomd kills
    // (killer "systemd-oomd") and earlyoom kills (killer "earlyoom"), all with source "journal".
    std::vector<OomKill> oomKills;
    bool empty() const { return failures.empty() && oomKills.empty(); }
  };

  UnitFailureAssembler();
  explicit UnitFailureAssembler(Options options);

  // Feeds one entry in journal order; returns what it completes.
  Output feed(const JournalEntry& entry);
  // Completes held failures whose hold ended at nowRealtimeUsec (wall clock, microseconds).
  Output expire(std::int64_t nowRealtimeUsec);
  // End of input: completes every held failure and every invocation that clearly failed (an exit
  // with a failing status) but never got a result line.
  Output finish();
  // Entries that took part in a failure, an OOM kill or a unit's last lines, so far.
  std::uint64_t recognisedEntries() const { return recognised_; }

 private:
  struct Invocation {
    UnitFailure failure;
    bool exitFailed = false;         // "Main process exited" with a failing code/status
    std::string exitCode;            // exited | killed | dumped
    bool failed = false;             // a result line (or older systemd's "entered failed state")
    std::int64_t heldSinceUsec = 0;  // journal time of the result line
    std::int64_t lastUsec = 0;
  };
  struct Line {
    std::string invocationId;
    std::string text;
  };
  // A journal message about a unit (UNIT= set), as feed()'s steps see it.
  struct UnitMessage {
    const JournalEntry& entry;
    std::string_view messageId;
    std::string unit;
    std::string id;         // INVOCATION_ID; empty from older systemd
    std::string key;        // of invocations_: the id, else "unit:" + unit
    std::string_view text;  // MESSAGE without the unit name in front
    std::int64_t now;       // journal time, microseconds; 0 when the entry has none
  };

  // feed()'s steps, one per kind of entry or message. A take...() that returns bool tells whether
  // the message was of its kind (it is then consumed, even when it changed nothing).
  void takeKernelLine(const JournalEntry& entry, std::string_view message, std::int64_t now,
                      Output& out);
  bool takeEarlyoomKill(const JournalEntry& entry, std::string_view message, std::int64_t now,
                        Output& out);
  void takeCoredump(const JournalEntry& entry, std::string_view message);
  void takeOwnLine(const JournalEntry& entry, std::string_view message);
  void takeUnitMessage(const UnitMessage& m, Output& out);
  bool takeProcessExit(const UnitMessage& m);
  bool takeResult(const UnitMessage& m);
  bool takeFailedToStart(const UnitMessage& m, Output& out);
  bool takeFailedState(const UnitMessage& m);
  bool takeFailureMessage(const UnitMessage& m);  // start limit, timeouts, spawn failures
  bool takeRestart(const UnitMessage& m);
  bool takeOomMessage(const UnitMessage& m, Output& out);
  bool takeCleanEnd(const UnitMessage& m);

  // The message's invocation, created if new, counted as recognised.
  Invocation& touch(const UnitMessage& m);
  // Marks the invocation failed, holding it from its first failure line.
  void hold(Invocation& inv, std::int64_t now);
  Invocation& invocation(const std::string& key, const std::string& unit, const std::string& id);
  void completeKey(const std::string& key, Output& out);
  void forget(std::unordered_map<std::string, Invocation>::iterator it);
  void completeUnitExcept(const std::string& unit, const std::string& keepKey, Output& out);
  void noteOom(const OomKill& kill, std::int64_t atUsec);
  void bound();

  Options options_;
  OomAssembler kernel_;
  std::unordered_map<std::string, Invocation> invocations_;  // key: INVOCATION_ID or "unit:"+unit
  std::deque<std::string> order_;                            // keys, oldest first
  std::unordered_map<std::string, std::deque<Line>> lines_;  // unit -> its own last lines
  std::unordered_map<std::string, std::uint32_t> restarts_;  // unit -> restart counter
  std::unordered_map<std::string, std::int64_t> lastOom_;    // unit -> time of a kernel OOM kill
  std::uint64_t recognised_ = 0;
};

// "start-limit" -> "start-limit-hit"; other words unchanged.
std::string normaliseUnitResult(std::string_view result);

// Fills a unit.failed payload.
void fillUnitFailed(schema::UnitFailed::Builder builder, const UnitFailure& failure);

}  // namespace octolaunch::parse
