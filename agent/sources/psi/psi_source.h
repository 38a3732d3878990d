// pressure.memory / pressure.io / pressure.cpu from /proc/pressure (PSI): an event when pressure
// rises past the threshold (state raised) and when it has gone (state cleared), never a sample
// per interval.
//
// Per resource, where the kernel accepts it, a PSI trigger ("some <stall_us> <window_us>" written
// to the file) wakes the source through POLLPRI on the io_context: that stall is the raise
// condition. Where the kernel refuses the trigger (EINVAL for some windows on this kernel, EPERM
// without write access) the file is polled every poll_interval_ms and "some avg10 >=
// some_avg10_percent" raises. Either way, once raised the file is polled and the state clears
// when "some avg10 < clear_avg10_percent" and no trigger fired for a whole window. The cleared
// event carries the episode: when it was raised and the highest some/full avg10 read while raised
// (the file is read every poll_interval_ms while raised, in both modes).
// At start each file is read once: "some avg10 >= some_avg10_percent" then raises at once, with
// atStart set (the pressure was already there).
// `dir` may also be a cgroup v2 directory (its memory.pressure, io.pressure, cpu.pressure).
// A missing file or EOPNOTSUPP (PSI disabled: psi=0) turns that resource off with one log line.
// Thread: io_context thread only (see source.h).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "agent/parse/psi.h"
#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

class PsiSource final : public Source {
 public:
  PsiSource(asio::io_context& io, EventOut& out, PsiConfig config);
  ~PsiSource() override;
  std::string_view name() const override { return "psi"; }
  bool start() override;
  void stop() override;
  std::string degraded() const override { return degraded_.text(); }

  // For tests and the report: how each resource is watched.
  enum class Mode { off, trigger, polling };
  Mode mode(parse::PsiResource resource) const;

 private:
  struct Watch;
  struct Reading {
    std::optional<parse::PsiSample> some;
    std::optional<parse::PsiSample> full;
  };
  bool open(Watch& w);
  void noTriggerPermission(const Watch& w, int err);
  Reading read(Watch& w);
  void sampleAtStart(Watch& w);
  void raise(Watch& w, const parse::PsiSample& some, const std::optional<parse::PsiSample>& full,
             bool atStart);
  void waitTrigger(Watch& w);
  void arm(Watch& w);
  void sample(Watch& w, bool triggered);
  void emit(Watch& w, bool raised, const parse::PsiSample& some,
            const std::optional<parse::PsiSample>& full, bool atStart);

  asio::io_context& io_;
  EventOut& out_;
  PsiConfig config_;
  std::vector<std::unique_ptr<Watch>> watches_;
  bool stopped_ = false;
  DegradedNote degraded_;
};

}  // namespace octolaunch::sources
