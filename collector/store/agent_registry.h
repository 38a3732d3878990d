// The enrolled agents: one record per agent id with the SHA-256 of its key, the host it enrolled
// as, its key generation (rpc.capnp, Credentials) and what the collector saw of it (last session,
// revocation, clones reported). LMDB database "enrolled_agents" in the collector's environment,
// values JSON (a handful of records, read at hello() and by the API: no format to version).
//
// Threads: find() and list() from any thread (own read transactions; the Env has MDB_NOTLS).
// put() writes in its own transaction: call it only on the store's writer thread (the ingest
// event loop; HTTP handlers go through the WriteSerializer). Throws lmdb::Error when the store
// cannot read or commit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/lmdb/lmdb.h"

namespace octolaunch {

struct EnrolledAgent {
  std::string agentId;
  std::string host;       // as enrolled; the collector records the agent's events under it
  std::string keyDigest;  // hex SHA-256 of the agent's key
  std::uint64_t generation = 0;
  std::int64_t enrolledNs = 0;
  std::string enrolledFrom;     // peer address of the enroll() call
  std::int64_t lastSeenNs = 0;  // last accepted hello()
  std::string lastPeer;
  std::int64_t revokedNs = 0;        // 0: not revoked
  std::uint64_t clonesReported = 0;  // hellos refused as a second installation of this identity
  std::int64_t lastCloneNs = 0;
  std::string lastClonePeer;

  bool revoked() const { return revokedNs != 0; }
};

class AgentRegistry final {
 public:
  // Opens (creating) the database in a write transaction: construct before other threads use
  // the Env. Borrows env, which must outlive the registry.
  explicit AgentRegistry(lmdb::Env& env);

  std::optional<EnrolledAgent> find(std::string_view agentId);
  std::vector<EnrolledAgent> list();  // by agent id
  void put(const EnrolledAgent& agent);

 private:
  lmdb::Env& env_;
  MDB_dbi dbi_ = 0;
};

}  // namespace octolaunch
