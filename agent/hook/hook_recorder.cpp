#include "agent/hook/hook_recorder.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "agent/hook/utf8_escape.h"
#include "shared/event/hook_block.h"

namespace octolaunch::agent {

namespace {
constexpr std::size_t kArenaFirstSegmentWords = std::size_t{1} << 19;  // 4 MiB
}

HookRecorder::HookRecorder(EventSink& sink, const Redactor& redactor, HookContext context,
                           HookLimits limits, Warn warn)
    : sink_(sink),
      redactor_(redactor),
      context_(std::move(context)),
      limits_(limits),
      warn_(std::move(warn)),
      tail_(limits.tailLines),
      arenaSegment_(
          static_cast<capnp::word*>(std::calloc(kArenaFirstSegmentWords, sizeof(capnp::word)))) {
  if (!arenaSegment_) throw std::bad_alloc();
  if (limits_.maxLineBytes < 16) limits_.maxLineBytes = 16;
  if (limits_.flushEvents == 0) limits_.flushEvents = 1;
  resetArena();
}

HookRecorder::~HookRecorder() {
  readers_.clear();
  orphans_.clear();  // orphans must go before their arena
  arena_.reset();
}

void HookRecorder::resetArena() {
  readers_.clear();
  orphans_.clear();
  arena_.reset();  // zeroes the reused first segment before the next builder takes it
  arena_ = std::make_unique<capnp::MallocMessageBuilder>(
      kj::arrayPtr(arenaSegment_.get(), kArenaFirstSegmentWords));
}

schema::Event::Builder HookRecorder::newEvent(std::int64_t timeNs) {
  orphans_.push_back(arena_->getOrphanage().newOrphan<schema::Event>());
  auto event = orphans_.back().get();
  event.setTimeNs(timeNs);
  if (!context_.service.empty()) event.setService(context_.service);
  if (!context_.release.empty()) event.setRelease(context_.release);
  return event;
}

void HookRecorder::feed(HookStream stream, std::string_view bytes, std::int64_t timeNs) {
  if (failed_) return;  // nothing more is recorded: no need to split, escape or redact
  StreamState& s = streams_[index(stream)];
  while (!bytes.empty()) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    if (nl == nullptr) {
      s.partial.append(bytes);
      bytes = {};
    } else {
      std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data());
      if (s.partial.empty()) {
        emitLine(stream, bytes.substr(0, n), timeNs, true);
      } else {
        s.partial.append(bytes.substr(0, n));
        emitLine(stream, s.partial, timeNs, true);
        s.partial.clear();
      }
      bytes.remove_prefix(n + 1);
      continue;
    }
    // An unterminated line that is already too long: record full pieces now (bounded memory),
    // cut after a space where there is one in the piece's last quarter, so that a token (the
    // usual shape of a secret) is not split between two pieces the redactor sees apart.
    while (s.partial.size() > limits_.maxLineBytes) {
      std::size_t cut = utf8SplitPoint(s.partial, limits_.maxLineBytes);
      std::size_t space = std::string_view(s.partial).substr(0, cut).find_last_of(" \t");
      if (space != std::string_view::npos && space + 1 >= cut - cut / 4) cut = space + 1;
      emitLine(stream, std::string_view(s.partial).substr(0, cut), timeNs, false);
      s.partial.erase(0, cut);
    }
  }
  if (pendingEvents() >= limits_.flushEvents) flush();
}

void HookRecorder::emitLine(HookStream stream, std::string_view bytes, std::int64_t timeNs,
                            bool complete) {
  StreamState& s = streams_[index(stream)];
  if (complete && !bytes.empty() && bytes.back() == '\r') bytes.remove_suffix(1);
  // Pieces of a split line share its number; the line counts once its end is seen.
  std::uint32_t lineNo = s.lines + 1;
  // Escape and redact the whole line first, so that a secret is masked even where the line is
  // then split (a piece never exceeds the limit).
  scratch_.clear();
  appendEscapedUtf8(scratch_, bytes);
  redactor_.redact(scratch_, s.redact);
  std::string_view text = scratch_;
  do {
    std::size_t cut = utf8SplitPoint(text, limits_.maxLineBytes);
    std::string_view piece = text.substr(0, cut);
    text.remove_prefix(cut);
    if (!failed_) {
      pendingLines_.push_back({stream, lineNo, static_cast<std::uint32_t>(piece.size()), timeNs});
      pendingText_.append(piece);
    }
    if (!tail_.empty()) {
      tail_[tailNext_].assign(piece);
      tailNext_ = (tailNext_ + 1) % tail_.size();
      if (tailSize_ < tail_.size()) ++tailSize_;
    }
  } while (!text.empty());
  if (complete) s.lines = lineNo;
}

void HookRecorder::sealBlocks() {
  std::size_t first = 0;
  std::size_t textAt = 0;
  while (first < pendingLines_.size()) {
    // A block ends at kMaxBlockLines lines, at kMaxBlockBytes, or before a line read
    // kMaxBlockSpanNs after its first. Times must not go back inside a block (the collector
    // checks): a clock that stepped back starts a new one.
    const std::int64_t startNs = pendingLines_[first].timeNs;
    std::size_t bytes = pendingLines_[first].textBytes + kBlockLineOverhead;
    std::size_t end = first + 1;
    while (end < pendingLines_.size() && end - first < kMaxBlockLines &&
           bytes + pendingLines_[end].textBytes + kBlockLineOverhead <= kMaxBlockBytes &&
           pendingLines_[end].timeNs >= pendingLines_[end - 1].timeNs &&
           pendingLines_[end].timeNs - startNs <= kMaxBlockSpanNs) {
      bytes += pendingLines_[end].textBytes + kBlockLineOverhead;
      ++end;
    }
    auto event = newEvent(startNs);
    auto block = event.getPayload().initHookBlock();
    if (!context_.phase.empty()) block.setPhase(context_.phase);
    auto lines = block.initLines(static_cast<unsigned>(end - first));
    for (std::size_t i = first; i < end; ++i) {
      const PendingLine& p = pendingLines_[i];
      auto line = lines[static_cast<unsigned>(i - first)];
      line.setStream(p.stream == HookStream::out ? schema::HookOutput::Stream::STDOUT
                                                 : schema::HookOutput::Stream::STDERR);
      line.setLineNo(p.lineNo);
      line.setText(capnp::Text::Reader(pendingText_.data() + textAt, p.textBytes));
      line.setAfterNs(static_cast<std::uint32_t>(std::max<std::int64_t>(0, p.timeNs - startNs)));
      textAt += p.textBytes;
    }
    first = end;
  }
  pendingLines_.clear();
  pendingText_.clear();
}

void HookRecorder::flush() {
  if (failed_) {
    pendingLines_.clear();
    pendingText_.clear();
    if (!orphans_.empty()) resetArena();
    return;
  }
  sealBlocks();
  if (orphans_.empty()) return;
  readers_.reserve(orphans_.size());
  for (const auto& o : orphans_) readers_.push_back(o.getReader());
  try {
    sink_.append(readers_);
  } catch (const std::exception& e) {
    failed_ = true;
    warn_(std::string("cannot record hook output (the command runs on, unrecorded): ") + e.what());
  }
  resetArena();
}

void HookRecorder::finish(const HookOutcome& outcome) {
  for (HookStream stream : {HookStream::out, HookStream::err}) {
    StreamState& s = streams_[index(stream)];
    if (!s.partial.empty()) {
      std::string last = std::move(s.partial);
      s.partial.clear();
      emitLine(stream, last, outcome.timeNs, true);
    }
  }
  if (!failed_) {
    sealBlocks();
    auto event = newEvent(outcome.timeNs);
    auto exit = event.getPayload().initHookExit();
    if (!context_.phase.empty()) exit.setPhase(context_.phase);
    std::string command;
    appendEscapedUtf8(command, outcome.command);
    exit.setCommand(redactor_.redacted(command));
    if (outcome.signal) {
      exit.setSignal(*outcome.signal);
    } else {
      exit.setExitCode(outcome.exitCode.value_or(-1));
    }
    exit.setDurationMs(outcome.durationMs);
    auto tail = exit.initTail(static_cast<unsigned>(tailSize_));
    std::size_t first =
        (tailNext_ + tail_.size() - tailSize_) % std::max<std::size_t>(tail_.size(), 1);
    for (std::size_t i = 0; i < tailSize_; ++i) {
      tail.set(static_cast<unsigned>(i), tail_[(first + i) % tail_.size()]);
    }
    exit.setStdoutLines(lineCount(HookStream::out));
    exit.setStderrLines(lineCount(HookStream::err));
    exit.setChildPid(outcome.childPid);
    // Paths and names are bytes to the kernel; the record is UTF-8.
    std::string text;
    appendEscapedUtf8(text, outcome.cgroup);
    if (!text.empty()) exit.setCgroup(text);
    text.clear();
    appendEscapedUtf8(text, outcome.user);
    if (!text.empty()) exit.setUser(text);
  }
  flush();
}

}  // namespace octolaunch::agent
