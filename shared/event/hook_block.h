// hook.block (schemas/event.capnp, HookBlock): many hook.output lines of one hook in one record,
// and the one place that turns a block back into its lines (docs/ingest-blocks.md).
//
// Contract
//  * forEachLine() calls fn once per line, in the block's order, with a hook.output event that
//    carries the block's envelope (agentId, epoch, seq, receivedNs, host, service, release), the
//    line's own time (timeNs + afterNs) and its index in the block as HookOutput.part. Any other
//    event is passed to fn as it is (part 0), so callers need no case of their own.
//  * The event handed to fn lives in a message that forEachLine() reuses: it is valid only during
//    that call. fn returns false to stop; forEachLine() then returns false too.
//  * forEachLine() goes from part firstPart to the last; forEachLineBackwards() from part
//    endPart - 1 down to 0 (a newest-first query). A query resuming inside a block starts there.
// Threads: an instance is used by one thread at a time.
#pragma once

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch {

// Bounds a block keeps (the recorder cuts there; ingest quarantines a block beyond them).
inline constexpr std::uint32_t kMaxBlockLines = 4096;
inline constexpr std::int64_t kMaxBlockSpanNs = 1'000'000'000;
// What the recorder puts in one block at most: text plus kBlockLineOverhead per line. Well under
// what one local batch may hold (agent/local/local_batch.h: aims at 256 KiB, refuses over 1 MiB).
inline constexpr std::size_t kMaxBlockBytes = std::size_t{192} << 10;
inline constexpr std::size_t kBlockLineOverhead = 32;

// The source records an event stands for: a block's lines, else 1.
std::uint64_t recordCount(schema::Event::Reader event);

// A block as one hook.output, for a collector that takes no blocks (rpc.capnp, hello.accepts):
// its lines joined by "\n" (pieces of one split line without), the first line's number, stderr
// when any line is.
void joinBlock(schema::HookBlock::Reader block, schema::HookOutput::Builder out);

class BlockLines {
 public:
  BlockLines();
  using LineFn = std::function<bool(std::uint32_t part, schema::Event::Reader)>;
  bool forEachLine(schema::Event::Reader event, std::uint32_t firstPart, const LineFn& fn);
  bool forEachLineBackwards(schema::Event::Reader event, std::uint32_t endPart, const LineFn& fn);

 private:
  bool emit(schema::Event::Reader event, capnp::Text::Reader phase,
            capnp::List<schema::HookBlock::Line>::Reader lines, std::uint32_t part,
            const LineFn& fn);

  std::vector<capnp::word> scratch_;
};

}  // namespace octolaunch
