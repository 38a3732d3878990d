// The enrollment secrets ([rpc] tokens): what an agent presents once to enroll (and an older agent
// in every hello, where accept_shared_tokens allows it). Immutable after construction; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::ingest {

// a == b, in time that depends on the lengths only, not on where they differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

class TokenSet final {
 public:
  explicit TokenSet(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  // True when token equals one of them (never when none is configured). Compares in time
  // independent of where the strings differ.
  bool accepts(std::string_view token) const;
  bool empty() const { return tokens_.empty(); }

 private:
  std::vector<std::string> tokens_;
};

}  // namespace octolaunch::ingest
