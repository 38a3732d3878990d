#include "collector/http/token_access.h"

#include <cctype>
#include <cstdint>

namespace octolaunch::http {

namespace {
constexpr std::string_view kBearer = "Bearer ";

bool startsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

TokenAccess::TokenAccess(const std::vector<HttpToken>& tokens) {
  entries_.reserve(tokens.size());
  for (const HttpToken& t : tokens) entries_.push_back({Sha256::of(t.token), t.scope});
}

Access TokenAccess::check(std::string_view authorization, Scope needed) const {
  if (entries_.empty() || needed == Scope::open) return Access::allowed;
  const std::string_view token = bearerToken(authorization);
  if (token.empty()) return Access::unauthenticated;
  const Sha256::Digest presented = Sha256::of(token);
  bool found = false;
  Scope held = Scope::open;
  for (const Entry& e : entries_) {
    const bool match = constantTimeEqual(presented, e.digest);
    found = found || match;
    if (match && e.scope > held) held = e.scope;
  }
  if (!found) return Access::unauthenticated;
  return held >= needed ? Access::allowed : Access::forbidden;
}

std::string_view bearerToken(std::string_view authorization) {
  if (!startsWithIgnoringCase(authorization, kBearer)) return {};
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

bool constantTimeEqual(const Sha256::Digest& a, const Sha256::Digest& b) {
  std::uint8_t difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return difference == 0;
}

const char* scopeName(Scope scope) {
  switch (scope) {
    case Scope::open:
      return "open";
    case Scope::read:
      return "read";
    case Scope::write:
      return "write";
    case Scope::admin:
      return "admin";
  }
  return "?";
}

}  // namespace octolaunch::http
