// Who may ingest: enrollment of agents and the check of hello()'s credentials (rpc.capnp,
// Credentials). The identity of a session comes from here, never from what the agent claims per
// event: an enrolled agent's host is the one it enrolled with.
//
// Rules
//  * enroll(): one of the enrollment secrets ([rpc] tokens) buys a per-agent key for an agent id
//    that holds no unrevoked key. The key is 32 random bytes (hex); the registry keeps its
//    SHA-256. An agent id already enrolled is refused ("already enrolled:"): the enrollment secret
//    lets new agents in, it never takes over an existing one.
//  * authenticate(): an agent presenting a key must present the key of its agent id (compared in
//    constant time), not be revoked, and present a generation pair that matches the registry
//    (else it is a second installation of the identity: counted and reported, "identity cloned:").
//    Accepting stores the new generation. An agent without a key is accepted only when the
//    collector is open ([rpc] open, loopback only) or, with accept_shared_tokens, presents one of
//    the secrets as an older agent's token; never for an agent id that is enrolled.
//  * Refusals are values with a message the agent sees; the registry's lmdb::Error propagates.
//
// Threads: the ingest event loop (the store's writer thread) only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "collector/ingest/token_set.h"
#include "collector/store/agent_registry.h"
#include "shared/util/clock.h"

namespace octolaunch::ingest {

struct AccessOptions {
  bool open = false;                // agents without credentials are accepted
  bool acceptSharedTokens = false;  // an older agent's hello with a secret and no key is accepted
};

struct AccessRefusal {
  enum class Kind { credentials, notEnrolled, revoked, cloned, alreadyEnrolled };
  Kind kind;
  std::string message;  // starts with the prefix rpc.capnp documents for the kind
};

struct EnrolledKey {
  std::string key;
  std::uint64_t generation = 0;
};

struct SessionIdentity {
  std::string agentId;
  std::string host;
  bool enrolled = false;
};

struct HelloCredentials {
  std::string_view token;
  std::string_view agentKey;
  std::uint64_t generation = 0;
  std::uint64_t nextGeneration = 0;
};

class AgentAccess final {
 public:
  AgentAccess(AgentRegistry& registry, const TokenSet& secrets, AccessOptions options,
              const Clock& clock)
      : registry_(registry), secrets_(secrets), options_(options), clock_(clock) {}

  std::variant<EnrolledKey, AccessRefusal> enroll(std::string_view secret, std::string_view agentId,
                                                  std::string_view host, std::string_view peer);
  std::variant<SessionIdentity, AccessRefusal> authenticate(std::string_view agentId,
                                                            std::string_view host,
                                                            const HelloCredentials& credentials,
                                                            std::string_view peer);

 private:
  AgentRegistry& registry_;
  const TokenSet& secrets_;
  AccessOptions options_;
  const Clock& clock_;
};

// 32 random bytes from the kernel, as 64 hex digits. Throws std::runtime_error when getrandom
// fails.
std::string randomKeyHex();

}  // namespace octolaunch::ingest
