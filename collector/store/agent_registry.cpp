#include "collector/store/agent_registry.h"

#include <nlohmann/json.hpp>

namespace octolaunch {

namespace {

std::string encode(const EnrolledAgent& a) {
  return nlohmann::json{{"host", a.host},
                        {"key_sha256", a.keyDigest},
                        {"generation", a.generation},
                        {"enrolled_ns", a.enrolledNs},
                        {"enrolled_from", a.enrolledFrom},
                        {"last_seen_ns", a.lastSeenNs},
                        {"last_peer", a.lastPeer},
                        {"revoked_ns", a.revokedNs},
                        {"clones_reported", a.clonesReported},
                        {"last_clone_ns", a.lastCloneNs},
                        {"last_clone_peer", a.lastClonePeer}}
      .dump();
}

// A record this collector wrote; a damaged one reads as what it can (missing fields zero).
EnrolledAgent decode(std::string_view agentId, std::string_view value) {
  EnrolledAgent a;
  a.agentId = std::string(agentId);
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object()) return a;
  a.host = j.value("host", "");
  a.keyDigest = j.value("key_sha256", "");
  a.generation = j.value("generation", std::uint64_t{0});
  a.enrolledNs = j.value("enrolled_ns", std::int64_t{0});
  a.enrolledFrom = j.value("enrolled_from", "");
  a.lastSeenNs = j.value("last_seen_ns", std::int64_t{0});
  a.lastPeer = j.value("last_peer", "");
  a.revokedNs = j.value("revoked_ns", std::int64_t{0});
  a.clonesReported = j.value("clones_reported", std::uint64_t{0});
  a.lastCloneNs = j.value("last_clone_ns", std::int64_t{0});
  a.lastClonePeer = j.value("last_clone_peer", "");
  return a;
}

}  // namespace

AgentRegistry::AgentRegistry(lmdb::Env& env) : env_(env) {
  lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  dbi_ = lmdb::openDbi(txn, "enrolled_agents");
  txn.commit();
}

std::optional<EnrolledAgent> AgentRegistry::find(std::string_view agentId) {
  lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
  auto value = lmdb::get(txn, dbi_, agentId);
  if (!value) return std::nullopt;
  return decode(agentId, *value);
}

std::vector<EnrolledAgent> AgentRegistry::list() {
  std::vector<EnrolledAgent> out;
  lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
  lmdb::Cursor cursor(txn, dbi_);
  for (bool ok = cursor.first(); ok; ok = cursor.next()) {
    out.push_back(decode(cursor.key(), cursor.value()));
  }
  return out;
}

void AgentRegistry::put(const EnrolledAgent& agent) {
  lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  lmdb::put(txn, dbi_, agent.agentId, encode(agent));
  txn.commit();
}

}  // namespace octolaunch
