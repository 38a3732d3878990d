#include "collector/store/event_keys.h"

#include "shared/lmdb/lmdb.h"

namespace octolaunch::store_keys {

namespace {
constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;
}

std::uint64_t timeKey(std::int64_t timeNs) { return static_cast<std::uint64_t>(timeNs) ^ kSignBit; }

std::int64_t timeFromKey(std::uint64_t key) { return static_cast<std::int64_t>(key ^ kSignBit); }

std::string position(std::int64_t timeNs, std::uint64_t id) {
  std::string out;
  out.reserve(kPositionSize);
  lmdb::appendBigEndian(out, timeKey(timeNs));
  lmdb::appendBigEndian(out, id);
  return out;
}

std::string indexKey(std::string_view prefix, std::int64_t timeNs, std::uint64_t id) {
  std::string out;
  out.reserve(prefix.size() + kPositionSize);
  out.append(prefix);
  lmdb::appendBigEndian(out, timeKey(timeNs));
  lmdb::appendBigEndian(out, id);
  return out;
}

std::string indexPrefix(std::string_view value) {
  std::string out(value);
  out.push_back('\0');
  return out;
}

std::string markKey(std::string_view agentId, std::uint64_t epoch) {
  std::string out(agentId);
  out.push_back('\0');
  lmdb::appendBigEndian(out, epoch);
  return out;
}

std::string quarantineKey(std::string_view agentId, std::uint64_t epoch, std::uint64_t seq) {
  std::string out = markKey(agentId, epoch);
  lmdb::appendBigEndian(out, seq);
  return out;
}

std::string encodeQuarantineValue(std::int64_t receivedNs, std::string_view reason,
                                  std::string_view packed) {
  std::string out;
  out.reserve(16 + reason.size() + packed.size());
  lmdb::appendBigEndian(out, static_cast<std::uint64_t>(receivedNs));
  lmdb::appendBigEndian(out, reason.size());
  out.append(reason);
  out.append(packed);
  return out;
}

std::optional<QuarantineEntry> decodeQuarantine(std::string_view key, std::string_view value) {
  const std::size_t nul = key.find('\0');
  if (nul == std::string_view::npos || key.size() != nul + 17 || value.size() < 16) {
    return std::nullopt;
  }
  QuarantineEntry entry;
  entry.agentId = std::string(key.substr(0, nul));
  entry.epoch = lmdb::readBigEndian(key.substr(nul + 1));
  entry.seq = lmdb::readBigEndian(key.substr(nul + 9));
  entry.receivedNs = static_cast<std::int64_t>(lmdb::readBigEndian(value));
  const std::uint64_t reasonLen = lmdb::readBigEndian(value.substr(8));
  if (reasonLen > value.size() - 16) return std::nullopt;
  entry.reason = std::string(value.substr(16, reasonLen));
  entry.packed = std::string(value.substr(16 + reasonLen));
  return entry;
}

std::string encodeMark(const Mark& mark) {
  std::string out;
  out.reserve(24);
  lmdb::appendBigEndian(out, mark.lastSeq);
  lmdb::appendBigEndian(out, mark.stored);
  lmdb::appendBigEndian(out, static_cast<std::uint64_t>(mark.lastSeenNs));
  return out;
}

Mark decodeMark(std::string_view bytes) {
  Mark mark;
  if (bytes.size() < 24) return mark;
  mark.lastSeq = lmdb::readBigEndian(bytes);
  mark.stored = lmdb::readBigEndian(bytes.substr(8));
  mark.lastSeenNs = static_cast<std::int64_t>(lmdb::readBigEndian(bytes.substr(16)));
  return mark;
}

std::string encodeAgent(const AgentState& agent) {
  std::string out;
  out.reserve(16 + agent.host.size());
  lmdb::appendBigEndian(out, agent.epoch);
  lmdb::appendBigEndian(out, static_cast<std::uint64_t>(agent.lastSeenNs));
  out.append(agent.host);
  return out;
}

AgentState decodeAgent(std::string_view bytes) {
  AgentState agent;
  if (bytes.size() < 16) return agent;
  agent.epoch = lmdb::readBigEndian(bytes);
  agent.lastSeenNs = static_cast<std::int64_t>(lmdb::readBigEndian(bytes.substr(8)));
  agent.host = std::string(bytes.substr(16));
  return agent;
}

std::string encodeClock(const ClockValue& clock) {
  std::string out;
  out.reserve(24);
  for (std::int64_t v : {clock.offsetNs, clock.roundTripNs, clock.receivedNs})
    lmdb::appendBigEndian(out, static_cast<std::uint64_t>(v));
  return out;
}

std::optional<ClockValue> decodeClock(std::string_view bytes) {
  if (bytes.size() != 24) return std::nullopt;
  auto at = [&](std::size_t i) {
    return static_cast<std::int64_t>(lmdb::readBigEndian(bytes.substr(i * 8)));
  };
  return ClockValue{at(0), at(1), at(2)};
}

std::string encodeCursor(std::string_view position) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "p";
  for (unsigned char c : position) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::optional<std::string> decodeCursor(std::string_view cursor) {
  if ((cursor.size() != 1 + 2 * kPositionSize && cursor.size() != 1 + 2 * (kPositionSize + 4)) ||
      cursor[0] != 'p') {
    return std::nullopt;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(kPositionSize);
  for (std::size_t i = 1; i < cursor.size(); i += 2) {
    int hi = nibble(cursor[i]);
    int lo = nibble(cursor[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace octolaunch::store_keys
