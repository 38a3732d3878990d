// EventFact: the plain-data distillate of one stored event that the analysis works on.
//
// The store hands out schema::Event::Reader values that are valid only during a callback; the
// analysis keeps EventFacts instead (owned strings, the payload fields that linking, deploy state
// and cause rules look at, and a one-line human summary). Building one never fails: unknown or
// empty fields stay empty.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::analysis {

// Which event this is: enough to find it again (GET /api/v1/events, evidence refs).
struct EventRef {
  std::string agentId;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  bool operator==(const EventRef&) const = default;
  auto operator<=>(const EventRef&) const = default;
};

// The analysis tells kinds apart by the payload's union tag (pressure.* share one; `kind` below
// has the printed name). shared/event/event_kinds.h says what each kind is.
using FactKind = schema::Event::Payload::Which;

enum class Outcome { unknown, ok, failed };

struct FingerprintEntry {
  std::string name;  // file path or environment variable name
  std::string kind;  // "file", "env", "command"
  std::string hmac;  // keyed hash of the value
  bool operator==(const FingerprintEntry&) const = default;
};

struct EventFact {
  EventRef ref;
  std::int64_t timeNs = 0;
  std::string host;
  std::string service;  // empty when the event did not say
  std::string release;  // empty when the event did not say
  FactKind type = FactKind::HOOK_OUTPUT;
  std::string kind;     // kindName(): "hook.exit", "pressure.memory", ...
  std::string summary;  // one line for humans: "hook migrate `./migrate.sh` exited 3: ..."

  // Payload fields (only those of the event's kind are set).
  std::string phase;                   // deploy markers, hook.output, hook.exit
  Outcome outcome = Outcome::unknown;  // deploy.finish
  std::string command;                 // hook.exit
  std::optional<int> exitCode;         // hook.exit, container.*, unit.failed (exit status)
  std::optional<int> signal;           // hook.exit
  std::uint64_t durationMs = 0;        // hook.exit
  std::vector<std::string> tail;       // hook.exit: last output lines, both streams, in order
  int childPid = 0;                    // hook.exit: the hook's process (0: unknown)
  std::string cgroup;                  // hook.exit: the hook's cgroup ("/..."; empty: unknown)
  bool atStart = false;  // pressure.*, exhaustion, unit.failed, container.*: present at agent start
  bool stderrLine = false;    // hook.output
  bool raised = false;        // pressure.*, disk.full, inode.exhausted, fd.exhausted
  std::string mount;          // disk.full, inode.exhausted
  double usedPercent = 0;     // disk.full, inode.exhausted, fd.exhausted
  double avg10 = 0;           // pressure.* (some avg10)
  double fullAvg10 = 0;       // pressure.*
  std::int64_t raisedNs = 0;  // pressure.* cleared: when its episode was raised (0: unknown)
  double peakSomeAvg10 = 0;   // pressure.* cleared: the episode's highest some avg10
  double peakFullAvg10 = 0;   // pressure.* cleared: the episode's highest full avg10
  std::string unit;           // unit.failed, oom.kill
  std::string result;         // unit.failed (systemd's word)
  bool oomKilled = false;     // unit.failed, container.*
  std::string process;        // oom.kill
  int pid = 0;                // oom.kill
  std::uint64_t rssKb = 0;    // oom.kill anon rss
  std::string constraint;     // oom.kill
  std::string taskMemcg;      // oom.kill (the victim's cgroup), oom.invocation (memcg)
  std::string memcg;          // oom.kill: the cgroup whose limit was hit
  std::string containerId;    // oom.kill, container.*
  std::string containerName;  // container.*, artifact.observed
  std::string image;          // container.*
  std::vector<std::string>
      digests;         // artifact.observed digest + image digests; container.* digests
  std::string probe;   // health.*
  std::string status;  // health.*
  std::string error;   // health.*, container.*
  std::vector<FingerprintEntry> entries;  // config/dependency.fingerprint
  std::string keyId;  // config/dependency.fingerprint: the key's id (empty: a legacy agent)
};

EventFact factFromEvent(schema::Event::Reader event);
// The same, into a default-constructed fact in place (no copy of the large struct).
void fillFact(EventFact& fact, schema::Event::Reader event);

// True for kinds that event_kinds.h links as hostContext (exhaustion of a shared host resource, OOM
// kills): when the event names no service it is linked to a release as context if it happens on
// a host inside the release's deploy window.
bool isHostContext(const EventFact& fact);

// True for events that say the service (or its deploy) is failing on that host (event_kinds.h's
// failure column, with the payload deciding for hook.exit and deploy.finish).
bool isFailureSignal(const EventFact& fact);

// "1.5 GiB", "12 MiB", "512 KiB"
std::string humanBytes(std::uint64_t bytes);

// How strongly a line of hook output reads as the error (case-insensitive): 3 names what ran out
// or who refused ("No space left on device", "Killed", "permission denied"), 2 is an error word
// (error, fatal, exception, cannot, could not, panic, Traceback, ...), 1 a line that only reports
// failure ("failed", "tar: Exiting with failure status due to previous errors"), 0 none.
int errorWeight(std::string_view line);

// The line that says why a hook failed: the heaviest errorWeight() among `lines` (the hook.exit
// tail, in order) and `stderrLines` (stderr lines seen before the exit, in order), stderr first
// at equal weight, the later one at equal weight and stream; without any error line, the last
// line of `lines` (else of stderrLines); empty when both are empty.
std::string informativeLine(std::span<const std::string> lines,
                            std::span<const std::string> stderrLines);

// What an OOM kill killed, for titles: the process name, else its unit, cgroup or "pid N".
std::string oomVictim(const EventFact& fact);

}  // namespace octolaunch::analysis
