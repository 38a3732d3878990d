#include "shared/event/hook_block.h"

#include <algorithm>
#include <string>

namespace octolaunch {

namespace {
constexpr std::size_t kScratchWords = 512;  // a line and its envelope; longer ones allocate
}

std::uint64_t recordCount(schema::Event::Reader event) {
  return event.getPayload().isHookBlock() ? event.getPayload().getHookBlock().getLines().size() : 1;
}

void joinBlock(schema::HookBlock::Reader block, schema::HookOutput::Builder out) {
  auto lines = block.getLines();
  std::string joined;
  bool stderrLine = false;
  for (std::uint32_t i = 0; i < lines.size(); ++i) {
    auto line = lines[i];
    // Pieces of one split line (same stream and number) join without a newline.
    const bool piece = i > 0 && line.getLineNo() == lines[i - 1].getLineNo() &&
                       line.getStream() == lines[i - 1].getStream();
    if (i > 0 && !piece) joined.push_back('\n');
    joined.append(line.getText().cStr(), line.getText().size());
    stderrLine = stderrLine || line.getStream() == schema::HookOutput::Stream::STDERR;
  }
  out.setStream(stderrLine ? schema::HookOutput::Stream::STDERR
                           : schema::HookOutput::Stream::STDOUT);
  if (lines.size() > 0) out.setLineNo(lines[0].getLineNo());
  out.setLine(joined);
  if (block.getPhase().size() > 0) out.setPhase(block.getPhase());
}

BlockLines::BlockLines() : scratch_(kScratchWords) {}

bool BlockLines::forEachLine(schema::Event::Reader event, std::uint32_t firstPart,
                             const LineFn& fn) {
  if (!event.getPayload().isHookBlock()) return firstPart > 0 || fn(0, event);
  // The list is fetched once: each fetch counts against the reader's traversal limit.
  auto block = event.getPayload().getHookBlock();
  const auto phase = block.getPhase();
  const auto lines = block.getLines();
  for (std::uint32_t part = firstPart; part < lines.size(); ++part) {
    if (!emit(event, phase, lines, part, fn)) return false;
  }
  return true;
}

bool BlockLines::forEachLineBackwards(schema::Event::Reader event, std::uint32_t endPart,
                                      const LineFn& fn) {
  if (!event.getPayload().isHookBlock()) return endPart == 0 || fn(0, event);
  auto block = event.getPayload().getHookBlock();
  const auto phase = block.getPhase();
  const auto lines = block.getLines();
  for (std::uint32_t part = std::min(endPart, lines.size()); part-- > 0;) {
    if (!emit(event, phase, lines, part, fn)) return false;
  }
  return true;
}

bool BlockLines::emit(schema::Event::Reader event, capnp::Text::Reader phase,
                      capnp::List<schema::HookBlock::Line>::Reader lines, std::uint32_t part,
                      const LineFn& fn) {
  auto line = lines[part];
  // The first segment is scratch_, zeroed again when the builder goes.
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.data(), scratch_.size()));
  auto out = message.initRoot<schema::Event>();
  out.setAgentId(event.getAgentId());
  out.setEpoch(event.getEpoch());
  out.setSeq(event.getSeq());
  out.setTimeNs(event.getTimeNs() + static_cast<std::int64_t>(line.getAfterNs()));
  out.setReceivedNs(event.getReceivedNs());
  out.setHost(event.getHost());
  if (event.getService().size() > 0) out.setService(event.getService());
  if (event.getRelease().size() > 0) out.setRelease(event.getRelease());
  auto output = out.getPayload().initHookOutput();
  output.setStream(line.getStream());
  output.setLineNo(line.getLineNo());
  output.setLine(line.getText());
  if (phase.size() > 0) output.setPhase(phase);
  output.setPart(part);
  return fn(part, out.asReader());
}

}  // namespace octolaunch
