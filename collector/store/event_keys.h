// Key layouts of the event store's LMDB databases (internal to collector/store).
//
//   events       id(BE8)                                -> packed Cap'n Proto Event, or zstd of
//                                                          it (event_value.h)
//   idx_time     time(BE8) id(BE8)                      -> tags(1) [span(BE4)]
//   idx_release  release \0 time(BE8) id(BE8)           -> tags(1) [span(BE4)] host
//   idx_host     host \0 time(BE8) id(BE8)              -> tags(1) [span(BE4)]
//   idx_kind     kind \0 time(BE8) id(BE8)              -> tags(1) [span(BE4)]
//   marks        agentId \0 epoch(BE8)                  -> lastSeq(BE8) stored(BE8) lastSeenNs(BE8)
//   agents       agentId                                -> epoch(BE8) lastSeenNs(BE8) host
//   clocks       agentId                                -> offsetNs(BE8) roundTripNs(BE8)
//                                                          receivedNs(BE8)
//   counts       'r'|'h'|'k' value                      -> events under that index prefix (BE8)
//                "q"                                    -> events in quarantine (BE8)
//   quarantine   agentId \0 epoch(BE8) seq(BE8)         -> receivedNs(BE8) reasonLen(BE8) reason
//                                                          packed Cap'n Proto Event (as received)
//   meta         "format", "migrated_after"             -> see store_format.h
//
// tags: what a scan may skip by without reading the event (kTag* below); an empty value (a store
// of format 1, not yet migrated) means "unknown: read it".
// time(BE8) is the signed timeNs with its sign bit flipped, so byte order is numeric order.
// Every index sorts by (time, id) inside its prefix: a "position" (time, id) is the same in all
// of them, which is what the opaque query cursor holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace octolaunch::store_keys {

inline constexpr std::size_t kPositionSize = 16;

inline constexpr unsigned char kTagHookStdout = 0x01;  // a hook.output line on stdout
inline constexpr unsigned char kTagHasRelease = 0x02;  // the event carries a release id
// A hook.block: the tags byte is followed by its span, the last line's afterNs (BE4), so a scan
// that skips it by its tags still knows when its last line was read.
inline constexpr unsigned char kTagBlockSpan = 0x04;
inline constexpr unsigned char kTagsPresent = 0x80;  // always set, so the byte is never 0

std::uint64_t timeKey(std::int64_t timeNs);
std::int64_t timeFromKey(std::uint64_t key);

// time(BE8) id(BE8)
std::string position(std::int64_t timeNs, std::uint64_t id);

// prefix (value \0, or empty for idx_time) + position
std::string indexKey(std::string_view prefix, std::int64_t timeNs, std::uint64_t id);
std::string indexPrefix(std::string_view value);  // value + '\0'

std::string markKey(std::string_view agentId, std::uint64_t epoch);

// markKey + seq(BE8)
std::string quarantineKey(std::string_view agentId, std::uint64_t epoch, std::uint64_t seq);

struct QuarantineEntry {
  std::string agentId;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::int64_t receivedNs = 0;
  std::string reason;
  std::string packed;
};
std::string encodeQuarantineValue(std::int64_t receivedNs, std::string_view reason,
                                  std::string_view packed);
// nullopt when the key or value is malformed.
std::optional<QuarantineEntry> decodeQuarantine(std::string_view key, std::string_view value);

struct Mark {
  std::uint64_t lastSeq = 0;
  std::uint64_t stored = 0;
  std::int64_t lastSeenNs = 0;
};
std::string encodeMark(const Mark& mark);
Mark decodeMark(std::string_view bytes);

struct AgentState {
  std::uint64_t epoch = 0;
  std::int64_t lastSeenNs = 0;
  std::string host;
};
std::string encodeAgent(const AgentState& agent);
AgentState decodeAgent(std::string_view bytes);

// Signed values as their two's complement bits. decodeClock: nullopt when malformed.
struct ClockValue {
  std::int64_t offsetNs = 0;
  std::int64_t roundTripNs = 0;
  std::int64_t receivedNs = 0;
};
std::string encodeClock(const ClockValue& clock);
std::optional<ClockValue> decodeClock(std::string_view bytes);

// The opaque cursor: "p" + lower-case hex digits of a position (16 bytes) and, for a cursor
// inside a hook.block, the line's part (BE4). decodeCursor returns those bytes; nullopt when
// malformed.
std::string encodeCursor(std::string_view position);
std::optional<std::string> decodeCursor(std::string_view cursor);

}  // namespace octolaunch::store_keys
