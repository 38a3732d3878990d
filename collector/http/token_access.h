// Who may call which route: the [http] tokens and the check of "Authorization: Bearer <token>".
//
// Contract
//  * Built once before serving from the configured tokens; check() is then const and safe on the
//    handler threads, several at once.
//  * Only SHA-256 digests of the tokens are kept. A presented token is hashed and compared with
//    every configured digest in constant time (no early exit, all entries visited), so neither
//    the match nor its position shows in the timing.
//  * With no tokens configured every request is allowed (the collector then listens on loopback
//    only, or was told allow_open; collector_config.h checks that before serving).
#pragma once

#include <string_view>
#include <vector>

#include "collector/config/http_options.h"
#include "shared/util/sha256.h"

namespace octolaunch::http {

enum class Access {
  allowed,
  unauthenticated,  // no bearer token, or one that is not configured: 401
  forbidden,        // a configured token whose scope is below what the route needs: 403
};

class TokenAccess final {
 public:
  TokenAccess() = default;
  explicit TokenAccess(const std::vector<HttpToken>& tokens);

  bool enabled() const { return !entries_.empty(); }

  // authorization: the request's Authorization header value ("" when absent).
  Access check(std::string_view authorization, Scope needed) const;

 private:
  struct Entry {
    Sha256::Digest digest;
    Scope scope;
  };
  std::vector<Entry> entries_;
};

// The token of an Authorization header value ("Bearer <token>", the scheme in any case, spaces
// around the token ignored); empty when there is none.
std::string_view bearerToken(std::string_view authorization);

// True when a and b are equal; the time taken does not depend on where they differ.
bool constantTimeEqual(const Sha256::Digest& a, const Sha256::Digest& b);

// "read", "write", "admin" ("open" for Scope::open).
const char* scopeName(Scope scope);

}  // namespace octolaunch::http
