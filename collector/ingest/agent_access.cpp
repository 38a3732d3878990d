#include "collector/ingest/agent_access.h"

#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>

#include "shared/event/event_json.h"
#include "shared/util/random_bytes.h"
#include "shared/util/sha256.h"

namespace octolaunch::ingest {

namespace {

AccessRefusal refuse(AccessRefusal::Kind kind, std::string message) {
  return AccessRefusal{kind, std::move(message)};
}

std::string digestHex(std::string_view key) { return toHex(Sha256::of(key)); }

}  // namespace

std::string randomKeyHex() {
  std::array<std::uint8_t, 32> bytes{};
  fillRandom(bytes.data(), bytes.size());
  return toHex(bytes);
}

std::variant<EnrolledKey, AccessRefusal> AgentAccess::enroll(std::string_view secret,
                                                             std::string_view agentId,
                                                             std::string_view host,
                                                             std::string_view peer) {
  using Kind = AccessRefusal::Kind;
  if (secrets_.empty()) {
    return refuse(Kind::credentials,
                  "credentials not accepted: this collector has no enrollment secret ([rpc] "
                  "tokens)");
  }
  if (!secrets_.accepts(secret)) return refuse(Kind::credentials, "credentials not accepted");
  std::optional<EnrolledAgent> existing = registry_.find(agentId);
  if (existing && !existing->revoked()) {
    spdlog::warn("enrollment of agent {} from {} refused: it is enrolled (host {}) since {}",
                 agentId, peer, existing->host, formatRfc3339Ns(existing->enrolledNs));
    return refuse(Kind::alreadyEnrolled,
                  "already enrolled: agent " + std::string(agentId) + " (host " + existing->host +
                      ") holds a key; revoke it first (octolaunch agents revoke " +
                      std::string(agentId) + ") to enroll this installation");
  }
  EnrolledAgent record;
  record.agentId = std::string(agentId);
  record.host = std::string(host);
  EnrolledKey key{randomKeyHex(), 0};
  while (key.generation == 0) fillRandom(&key.generation, sizeof key.generation);
  record.keyDigest = digestHex(key.key);
  record.generation = key.generation;
  record.enrolledNs = clock_.nowNs();
  record.enrolledFrom = std::string(peer);
  if (existing) record.clonesReported = existing->clonesReported;
  registry_.put(record);
  spdlog::info("agent {} enrolled as host {} from {}{}", agentId, host, peer,
               existing ? " (its earlier key was revoked)" : "");
  return key;
}

std::variant<SessionIdentity, AccessRefusal> AgentAccess::authenticate(
    std::string_view agentId, std::string_view host, const HelloCredentials& credentials,
    std::string_view peer) {
  using Kind = AccessRefusal::Kind;
  std::optional<EnrolledAgent> record = registry_.find(agentId);
  if (credentials.agentKey.empty()) {
    const bool sharedToken = options_.acceptSharedTokens && !credentials.token.empty() &&
                             secrets_.accepts(credentials.token);
    if (!sharedToken && !options_.open) {
      return refuse(Kind::credentials,
                    "credentials not accepted: this collector takes enrolled agents only (give the "
                    "agent an enrollment secret as its token)");
    }
    if (record && !record->revoked()) {
      return refuse(Kind::credentials, "credentials not accepted: agent " + std::string(agentId) +
                                           " is enrolled and must present its key");
    }
    return SessionIdentity{std::string(agentId), std::string(host), false};
  }
  if (!record) {
    return refuse(Kind::notEnrolled, "not enrolled: agent " + std::string(agentId) +
                                         " has no key on this collector; enroll it again");
  }
  if (!constantTimeEquals(digestHex(credentials.agentKey), record->keyDigest)) {
    return refuse(Kind::credentials, "credentials not accepted");
  }
  if (record->revoked()) {
    return refuse(Kind::revoked, "revoked: agent " + std::string(agentId) + " was revoked at " +
                                     formatRfc3339Ns(record->revokedNs));
  }
  if (record->generation != credentials.generation &&
      record->generation != credentials.nextGeneration) {
    record->clonesReported++;
    record->lastCloneNs = clock_.nowNs();
    record->lastClonePeer = std::string(peer);
    registry_.put(*record);
    spdlog::warn(
        "agent {} (host {}) from {}: a second installation presents this agent's key (a cloned "
        "image?); refused, and reported ({} so far). The installation last accepted was at {}",
        agentId, record->host, peer, record->clonesReported, record->lastPeer);
    return refuse(Kind::cloned,
                  "identity cloned: another installation holds agent " + std::string(agentId) +
                      "'s key and is ahead of this one; enroll this installation as a new agent");
  }
  if (credentials.nextGeneration != 0) record->generation = credentials.nextGeneration;
  record->lastSeenNs = clock_.nowNs();
  record->lastPeer = std::string(peer);
  registry_.put(*record);
  if (host != record->host) {
    spdlog::info(
        "agent {} calls itself {} but enrolled as host {}: its events are recorded "
        "under {}",
        agentId, host, record->host, record->host);
  }
  return SessionIdentity{record->agentId, record->host, true};
}

}  // namespace octolaunch::ingest
