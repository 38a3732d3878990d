// unit.failed (and systemd-oomd's oom.kill) from the systemd journal through sd-journal: the local
// system journal, or the journal files in a configured directory (another machine's journal, a
// container's /var/log/journal).
//
// Where it starts: after the cursor saved in "journal.state" in the state dir (the journal
// followed is named in the file: a cursor of another journal is not used), else at the journal's
// current end. Started without a cursor, it first reports the units that are failed now
// (unit.failed with atStart): the newest boot's systemd (PID 1) entries up to that end, through
// parse::FailedUnits (the last failure of each unit with no later successful start). With a
// cursor the failures before it were reported by the previous run. Waits on sd_journal_get_fd()
// with the io_context; entries go through the UnitFailureAssembler (agent/parse/unit_failure.h).
// Kernel lines in the journal
// (_TRANSPORT=kernel) feed an OomAssembler whose kills go to the OomLedger, so a unit whose process
// the kernel OOM-killed (systemd on cgroup v1 says only signal 9/KILL) is reported with oom_killed
// true — joined on the unit's cgroup/unit name, never on pids (a container's journal shows its own
// pids, the kernel host pids). The kmsg source records its kills in the same ledger. The unit's
// last lines are redacted (the hook wrapper's redactor) when one is given.
// A host without journald (no /run/systemd/journal) and no configured directory: source off.
// Thread: io_context thread only (see source.h).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "agent/parse/oom_kill.h"
#include "agent/parse/unit_failure.h"
#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/oom_ledger.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

struct sd_journal;

namespace octolaunch::sources {

// Masks secrets in a line in place (the agent passes its Redactor; tests may pass nothing).
using LineRedactor = std::function<void(std::string&)>;

class JournalSource final : public Source {
 public:
  JournalSource(asio::io_context& io, EventOut& out, OomLedger& ledger, JournalConfig config,
                std::filesystem::path stateDir, LineRedactor redact = {});
  ~JournalSource() override;
  std::string_view name() const override { return "journal"; }
  bool start() override;
  void stop() override;
  std::string degraded() const override { return degraded_.text(); }

  std::uint64_t entriesRead() const { return entriesRead_; }

 private:
  int open(sd_journal** journal) const;  // sd_journal_open*'s result
  void noteUnreadableFiles();
  void positionAtStart();
  void reportFailedAtStart();
  void waitReadable();
  void drain();
  void armTimeout();
  void armExpiry();
  void emit(parse::UnitFailureAssembler::Output& out, EventBatch& batch);
  void saveCursor();
  void scheduleCursorSave();

  EventOut& out_;
  OomLedger& ledger_;
  JournalConfig config_;
  std::filesystem::path statePath_;
  LineRedactor redact_;
  sd_journal* journal_ = nullptr;
  asio::posix::stream_descriptor descriptor_;
  asio::steady_timer timeoutTimer_;
  asio::steady_timer saveTimer_;
  asio::steady_timer expiryTimer_;
  parse::UnitFailureAssembler units_;
  parse::OomAssembler kernel_;
  std::string journalName_;  // what the state file's cursor belongs to
  std::string cursor_;
  bool saveArmed_ = false;
  bool stopped_ = false;
  std::uint64_t entriesRead_ = 0;
  DegradedNote degraded_;
};

}  // namespace octolaunch::sources
