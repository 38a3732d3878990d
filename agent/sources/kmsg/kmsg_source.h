// Kernel OOM kills from /dev/kmsg: one oom.kill event per kill, as the kernel logs it; an OOM
// report that names no victim (nothing killable, or no victim line within 5 s) is one
// oom.invocation.
//
// Reads /dev/kmsg as a non-blocking stream on the io_context. Where it starts:
//  * the agent ran before in this boot (state file "kmsg.state" in the state dir names this boot
//    id and the last seq read): right after that seq, so a restart of the agent loses nothing
//    the kernel still holds; records overwritten meanwhile are counted and logged;
//  * otherwise at the current end (old messages were someone else's to read). When the state
//    file names a previous boot, that boot's OOM kills after the last record read are recovered
//    from the persistent journal (see previous_boot.h).
// EPIPE (records overwritten while we read) is counted and reading goes on. Every kill is also
// recorded in the OomLedger so the cgroup source does not report it a second time.
// Thread: io_context thread only (see source.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "agent/parse/oom_kill.h"
#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/oom_ledger.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

class KmsgSource final : public Source {
 public:
  KmsgSource(asio::io_context& io, EventOut& out, OomLedger& ledger, KmsgConfig config,
             std::filesystem::path stateDir);
  ~KmsgSource() override;

  std::string_view name() const override { return "kmsg"; }
  bool start() override;
  void stop() override;
  std::string degraded() const override { return degraded_.text(); }

  std::uint64_t recordsRead() const { return recordsRead_; }
  std::uint64_t overwritten() const { return overwritten_; }
  std::uint64_t killsReported() const { return killsReported_; }
  std::uint64_t invocationsReported() const { return invocationsReported_; }

 private:
  void positionAtStart();
  // The seq of the newest record in the kernel's ring, read once from the start; fd is left after
  // it. nullopt (position unknown) on a read error or an empty ring.
  static std::optional<std::uint64_t> newestSeq(int fd);
  void recoverPreviousBoot(const std::string& bootId, std::uint64_t afterUsec);
  void waitReadable();
  void drain();
  void emit(const parse::OomKill& kill, EventBatch& batch);
  void armExpiry();
  void scheduleSave();
  void saveState();
  std::int64_t wallTimeOf(const parse::OomKill& kill) const;

  asio::io_context& io_;
  EventOut& out_;
  OomLedger& ledger_;
  KmsgConfig config_;
  std::filesystem::path statePath_;
  asio::posix::stream_descriptor descriptor_;
  asio::steady_timer expiryTimer_;
  asio::steady_timer saveTimer_;
  parse::OomAssembler assembler_;
  std::string bootId_;
  DegradedNote degraded_;
  std::optional<std::uint64_t> resumeAfter_;  // skip records up to this seq (restart in one boot)
  std::optional<std::uint64_t> lastSeq_;
  std::uint64_t lastUsec_ = 0;
  bool dirty_ = false;
  bool saveArmed_ = false;
  bool stopped_ = false;
  std::uint64_t recordsRead_ = 0;
  std::uint64_t overwritten_ = 0;
  std::uint64_t malformed_ = 0;
  std::uint64_t killsReported_ = 0;
  std::uint64_t invocationsReported_ = 0;
};

}  // namespace octolaunch::sources
