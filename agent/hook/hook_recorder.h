// Turns the bytes of a hook command's stdout and stderr into hook output lines (redacted, invalid
// UTF-8 escaped, long lines split) and, at the end, one hook.exit; appends them to an EventSink in
// batches. The lines pending at a flush travel as hook.block events (schemas/event.capnp: one
// record of many lines, docs/ingest-blocks.md), cut at kMaxBlockLines lines and kMaxBlockSpanNs.
//
// Contract
//  * Lines are numbered per stream from 1. A line longer than max_line_bytes is stored as several
//    lines with the same line number, split between characters; nothing is dropped. A trailing
//    "\r" (CRLF output) is not part of the line. A last line without "\n" is recorded by finish().
//  * The sink sees events in arrival order. If the sink throws, the recorder warns once through
//    `warn` and records nothing more (the command's output is not affected: it never passes
//    through here).
// Threads: single-threaded; RecorderThread runs it on a thread of its own.
#pragma once

#include <capnp/message.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/redact/redactor.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/event/event_sink.h"

namespace octolaunch::agent {

enum class HookStream { out = 0, err = 1 };

struct HookContext {
  std::string release;
  std::string service;
  std::string phase;
};

struct HookLimits {
  std::uint32_t tailLines = 20;
  std::uint32_t maxLineBytes = 8192;
  std::uint32_t flushEvents = 8192;  // flush() is due once this many lines are pending
};

struct HookOutcome {
  std::string command;          // argv joined with spaces, not yet redacted
  std::optional<int> exitCode;  // exactly one of exitCode / signal is set
  std::optional<int> signal;
  std::uint64_t durationMs = 0;
  std::int64_t timeNs = 0;    // when the command ended
  std::int32_t childPid = 0;  // the command's pid; 0 when it never started
  std::string cgroup;         // the command's cgroup when it started (child_identity.h)
  std::string user;           // the local user who ran the hook: passwd name, else "uid N"
};

class HookRecorder final {
 public:
  using Warn = std::function<void(const std::string&)>;
  // sink, redactor: not owned, must outlive the recorder.
  HookRecorder(EventSink& sink, const Redactor& redactor, HookContext context, HookLimits limits,
               Warn warn);
  ~HookRecorder();

  void feed(HookStream stream, std::string_view bytes, std::int64_t timeNs);
  // Lines (and the hook.exit) not yet appended to the sink.
  std::size_t pendingEvents() const { return orphans_.size() + pendingLines_.size(); }
  // Appends pending events to the sink (no-op when none are pending or the sink failed).
  void flush();
  // Records unterminated last lines and the hook.exit event, then flushes.
  void finish(const HookOutcome& outcome);

  std::uint32_t lineCount(HookStream stream) const { return streams_[index(stream)].lines; }
  bool failed() const { return failed_; }

 private:
  struct StreamState {
    std::string partial;
    std::uint32_t lines = 0;
    RedactState redact;
  };
  static int index(HookStream s) { return static_cast<int>(s); }
  void emitLine(HookStream stream, std::string_view bytes, std::int64_t timeNs, bool complete);
  schema::Event::Builder newEvent(std::int64_t timeNs);
  // Turns the pending lines into hook.block events of the batch (before anything that must
  // follow them, e.g. the hook.exit).
  void sealBlocks();
  void resetArena();

  EventSink& sink_;
  const Redactor& redactor_;
  HookContext context_;
  HookLimits limits_;
  Warn warn_;
  StreamState streams_[2];
  // The last tailLines lines: a ring whose strings keep their capacity (no allocation per line).
  std::vector<std::string> tail_;
  std::size_t tailNext_ = 0;
  std::size_t tailSize_ = 0;
  std::string scratch_;
  // The batch's events live in one message whose first segment is reused from batch to batch
  // (MallocMessageBuilder zeroes what it used when destroyed). From calloc: zero pages the
  // kernel provides as they are first written, so the part no batch uses costs nothing.
  struct FreeSegment {
    void operator()(capnp::word* segment) const { std::free(segment); }
  };
  std::unique_ptr<capnp::word[], FreeSegment> arenaSegment_;
  std::unique_ptr<capnp::MallocMessageBuilder> arena_;
  std::vector<capnp::Orphan<schema::Event>> orphans_;
  std::vector<schema::Event::Reader> readers_;
  // Lines recorded since the last sealBlocks(): their text back to back in pendingText_.
  struct PendingLine {
    HookStream stream;
    std::uint32_t lineNo;
    std::uint32_t textBytes;
    std::int64_t timeNs;
  };
  std::vector<PendingLine> pendingLines_;
  std::string pendingText_;
  bool failed_ = false;
};

}  // namespace octolaunch::agent
