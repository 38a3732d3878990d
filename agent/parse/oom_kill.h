// Kernel OOM kills: one OomKill per killed process, assembled from the kernel's several lines.
//
// OomAssembler is fed kernel messages in kernel order (any source: /dev/kmsg, dmesg, journal) and
// joins, per kill:
//   "X invoked oom-killer: gfp_mask=..., order=..., oom_score_adj=..."   (trigger; CPU:/PID: line
//   for its pid)
//   "oom-kill:constraint=...,nodemask=...,cpuset=...,mems_allowed=...,oom_memcg=...,task_memcg=...,
//    task=...,pid=...,uid=..."                                          (4.19+, key=value, any
//    order)
//   "Task in X killed as a result of limit of Y"                        (pre-4.19 memcg)
//   "[Memory cgroup out of memory: ]Kill process N (x) score S or sacrifice child"  (old kernels)
//   "[Memory cgroup out of memory: |Out of memory: ]Killed process N (x) total-vm:...kB,
//   anon-rss:...kB,
//    file-rss:...kB, shmem-rss:...kB, UID:N pgtables:... oom_score_adj:N"          (the victim)
//   "Out of memory and no killable processes..."    (the report ends: the kernel found no victim)
// Unrelated lines (other subsystems, the memory dump, the task list) may be interleaved.
// Thread: one assembler per reader thread; not thread-safe. Never throws on any text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/parse/kernel_message.h"
#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::parse {

struct OomKill {
  std::int32_t pid = 0;  // victim pid; 0 when the kernel named no victim (header only)
  std::string process;   // victim comm
  std::int32_t uid = -1;
  std::string trigger;  // the process that invoked the oom-killer
  std::int32_t triggerPid = 0;
  std::string constraint;   // kernel's word: CONSTRAINT_MEMCG, CONSTRAINT_NONE, ...; for
                            // pre-4.19 memcg kills inferred as CONSTRAINT_MEMCG
  std::string memcg;        // cgroup whose limit was hit (oom_memcg / "limit of Y")
  std::string taskMemcg;    // victim's cgroup
  std::string unit;         // from taskMemcg (else memcg), see cgroup_path.h
  std::string containerId;  // from taskMemcg (else memcg)
  std::uint64_t anonRssKb = 0;
  std::uint64_t totalVmKb = 0;
  std::uint64_t fileRssKb = 0;
  std::uint64_t shmemRssKb = 0;
  std::int32_t oomScoreAdj = 0;  // victim's, from the Killed line (else the summary's absence: 0)
  std::string killer = "kernel";
  std::string source = "kmsg";
  bool victimSeen = false;  // a "Killed process" line was seen (false: flushed header/summary)
  bool noKillable = false;  // the kernel said it found no killable process
  std::optional<std::uint64_t> monoUsec;   // kernel monotonic time of the last line joined
  std::optional<std::int64_t> realtimeNs;  // wall clock, when the input carried one
  std::optional<std::uint64_t> seq;        // kmsg seq of the last line joined

  // The OOM killer ran but no victim is known: the kernel found nothing killable, or the report
  // ended (a timeout, the end of the text) before any line named one. Such a report is an
  // oom.invocation, never an oom.kill: a kill always names its victim's pid.
  bool invocation() const { return pid == 0; }
};

// "oom_reaper: reaped process N (x), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
struct OomReaped {
  std::int32_t pid = 0;
  std::string process;
  std::uint64_t anonRssKb = 0;
  std::uint64_t fileRssKb = 0;
  std::uint64_t shmemRssKb = 0;
};
std::optional<OomReaped> parseOomReaped(std::string_view text);

namespace detail {
struct OomPending {  // internal state of OomAssembler
  OomKill kill;
  bool headerSeen = false;
  bool summarySeen = false;
  bool victimEmitted = false;  // a victim line already completed a kill from this context
  bool unemitted = false;      // holds facts no emitted kill carried yet (flush emits them)
  std::string scoreVictim;     // "Kill process N (x) score S or sacrifice child"
  std::int32_t scoreVictimPid = 0;
  std::string cpuset;  // trigger's cpuset (container fallback when no memcg is known)
};
}  // namespace detail

class OomAssembler final {
 public:
  struct Options {
    // A header or summary with no victim line is flushed this long after its last line
    // (kernel monotonic clock) by expire(), or when the next header arrives, or by finish().
    std::uint64_t pendingTimeoutUsec = 5'000'000;
  };
  OomAssembler();
  explicit OomAssembler(Options options);

  // Feeds one kernel message; returns the kills it completes (usually none or one; a new header
  // also flushes a previous victim-less one).
  std::vector<OomKill> feed(const KernelMessage& message);
  // Flushes a pending kill whose last line is older than the timeout at nowMonoUsec
  // (CLOCK_MONOTONIC in microseconds, the clock of kmsg timestamps).
  std::vector<OomKill> expire(std::uint64_t nowMonoUsec);
  // End of input: flushes whatever is pending.
  std::vector<OomKill> finish();

  // Lines recognised as part of an OOM report (header, summary, victim, reaper) so far.
  std::uint64_t recognisedLines() const { return recognised_; }
  // oom_reaper lines seen, newest last (bounded to the last 64).
  const std::vector<OomReaped>& reaped() const { return reaped_; }
  bool pending() const { return pending_.has_value(); }

 private:
  using Pending = detail::OomPending;
  // The pending report, begun if there is none.
  Pending& pendingReport();
  std::vector<OomKill> flushPending();
  void flushInto(std::vector<OomKill>& out);
  // A pending kill whose last line is older than the timeout on the message's own clock.
  void flushStale(const KernelMessage& message, std::vector<OomKill>& out);

  // feed()'s steps, one per kind of line. Each returns whether the line was of its kind (it is
  // then consumed, even when it turned out malformed); takeReportDetail() reads the trigger's
  // CPU:/PID: and cpuset lines of a pending report.
  bool takeHeader(std::string_view text, const KernelMessage& message, std::vector<OomKill>& out);
  bool takeSummary(std::string_view text, const KernelMessage& message, std::vector<OomKill>& out);
  bool takeVictim(std::string_view text, const KernelMessage& message, std::vector<OomKill>& out);
  bool takeScoreVictim(std::string_view text, const KernelMessage& message,
                       std::vector<OomKill>& out);
  bool takeTaskIn(std::string_view text, const KernelMessage& message);
  bool takeReaped(std::string_view text);
  bool takeMemcgStats(std::string_view text, const KernelMessage& message);
  bool takeNoKillable(std::string_view text, const KernelMessage& message,
                      std::vector<OomKill>& out);
  void takeReportDetail(std::string_view text);

  Options options_;
  std::optional<Pending> pending_;
  std::vector<OomReaped> reaped_;
  std::uint64_t recognised_ = 0;
};

// Fills an oom.kill (or oom.invocation) payload's fields.
void fillOomKill(schema::OomKill::Builder builder, const OomKill& kill);
// Sets the event's payload: oom.invocation when kill.invocation(), else oom.kill.
void fillOomEvent(schema::Event::Payload::Builder payload, const OomKill& kill);

}  // namespace octolaunch::parse
