// The benchmark suite's event mix (scripts/bench.sh): hook lines of 80-200 bytes and 1 % other
// kinds (hook.exit, unit.failed, deploy.start), the same for every consumer -- an agent's spool, a
// plain LMDB append, the systemd journal's export format -- so each figure counts the same records.
// Deterministic: event `index` of agent `agent` is always the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::bench {

enum class MixKind { hookOutput, hookExit, unitFailed, deployStart };

struct MixEvent {
  MixKind kind = MixKind::hookOutput;
  bool stderrStream = false;
  std::int64_t timeNs = 0;
  std::string host;  // "bench-<agent>"
  std::string text;  // the hook line, or the unit / command / phase of another kind
  std::uint32_t lineNo = 0;
};

inline constexpr const char* kMixRelease = "bench-r1";
inline constexpr const char* kMixService = "api";

// Event `index` (from 0) of agent `agent`.
MixEvent mixEvent(std::uint32_t agent, std::uint64_t index);

// Fills `e` as an agent's hook wrapper or source would (seq, epoch, agentId are left to the
// spool and the shipper).
void buildEvent(const MixEvent& m, schema::Event::Builder e);

// A record as an agent's spool holds it: `count` consecutive events from `first`. Hook lines
// travel as one hook.block, cut where the hook recorder cuts (shared/event/hook_block.h: lines,
// bytes, the 1 s span, another kind in between); any other kind is a record of its own.
struct MixRecord {
  std::uint64_t first = 0;
  std::uint32_t count = 1;
};

// Agent `agent`'s events [0, events) as records, in order.
std::vector<MixRecord> mixRecords(std::uint32_t agent, std::uint64_t events);

// Fills `e` with the record (like buildEvent: no seq, epoch or agentId).
void buildRecord(std::uint32_t agent, const MixRecord& record, schema::Event::Builder e);

// One journal entry in the export format (fields, then a blank line), the same record as a
// journal-shipping peer would hold it.
void appendExportEntry(const MixEvent& m, std::string& out);

}  // namespace octolaunch::bench
